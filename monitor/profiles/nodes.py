"""The query tree a profile's query parses into. Plain values: no I/O, no matching logic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TextField = Literal["title", "text"]  # where a term may occur; None means either
MetaField = Literal["url", "source", "lang"]
TEXT_FIELDS: tuple[str, ...] = ("title", "text")
META_FIELDS: tuple[str, ...] = ("url", "source", "lang")


@dataclass(frozen=True, slots=True)
class Term:
    """A word, a CJK string or a quoted phrase, matched literally after folding.

    `prefix` (from `censor*`) lets the last word run on; `source` is the text as written.
    """

    text: str
    field: TextField | None = None
    prefix: bool = False
    source: str = ""


@dataclass(frozen=True, slots=True)
class Proximity:
    """`"a b c"~N` or `a NEAR/N b`: every part occurs in one stretch of text holding at most
    `distance` other words (a chain `a NEAR/N b NEAR/N c` allows N per gap)."""

    parts: tuple[Node, ...]
    distance: int
    source: str = ""


@dataclass(frozen=True, slots=True)
class Regex:
    """`/pattern/`: a regular expression (profiles opt in), run with a time limit."""

    pattern: str
    field: TextField | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class Meta:
    """`url:`, `source:` or `lang:` — a test on the article's metadata, not its text."""

    field: MetaField
    value: str
    source: str = ""


@dataclass(frozen=True, slots=True)
class And:
    parts: tuple[Node, ...]
    source: str = ""


@dataclass(frozen=True, slots=True)
class Or:
    parts: tuple[Node, ...]
    source: str = ""
    concept: str = ""  # set when the OR is a concept's aliases (@NAME): shown and kept whole


@dataclass(frozen=True, slots=True)
class Not:
    part: Node
    source: str = ""


Node = Term | Proximity | Regex | Meta | And | Or | Not


def walk(node: Node) -> list[Node]:
    """The node and all its descendants, depth first."""
    out: list[Node] = [node]
    if isinstance(node, And | Or | Proximity):
        for part in node.parts:
            out += walk(part)
    elif isinstance(node, Not):
        out += walk(node.part)
    return out


def positive_leaves(node: Node) -> list[Term | Regex]:
    """Terms and regexes that count for a match (not under a NOT)."""
    if isinstance(node, Term | Regex):
        return [node]
    if isinstance(node, Not | Meta):
        return []
    return [leaf for part in node.parts for leaf in positive_leaves(part)]


def needs_text(node: Node) -> bool:
    """Whether the query can only hold if some term or regex occurs in the text."""
    if isinstance(node, Term | Regex | Proximity):
        return True
    if isinstance(node, Meta | Not):
        return False
    if isinstance(node, And):
        return any(needs_text(p) for p in node.parts)
    return all(needs_text(p) for p in node.parts)
