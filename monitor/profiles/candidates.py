"""What text an article must contain for a query to have a chance: the part of a query a
substring index can check before the matcher confirms.

`needed` turns a query tree into a formula over folded literals that every matching article
satisfies (it may also admit articles the query rejects, never the reverse): a term needs its
folded text, a NEAR or an AND all of its parts' needs, an OR one of them. What an index cannot
check — a regular expression, metadata, an exclusion — needs nothing (None: every article is a
candidate). `narrowed` then drops what one particular index cannot look up (a literal shorter
than its grams), widening the formula where it must.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from monitor.profiles.nodes import And, Meta, Node, Not, Proximity, Regex, Term
from monitor.profiles.normalize import CJK_RANGES, fold_term

_CJK = re.compile(f"([{CJK_RANGES}])")


@dataclass(frozen=True, slots=True)
class Literal:
    """Folded text that must occur somewhere in the folded title or text."""

    text: str


@dataclass(frozen=True, slots=True)
class AllOf:
    parts: tuple[Need, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    parts: tuple[Need, ...]


Need = Literal | AllOf | AnyOf


def needed(node: Node) -> Need | None:
    """A formula every article the query matches satisfies; None when any article may match."""
    if isinstance(node, Term):
        folded = fold_term(node.text).strip()
        return Literal(folded) if folded else None
    if isinstance(node, Regex | Meta | Not):
        return None
    if isinstance(node, And | Proximity):
        return _all([needed(part) for part in node.parts])
    return _any([needed(part) for part in node.parts])


def narrowed(need: Need | None, usable: Callable[[str], bool]) -> Need | None:
    """`need` with every literal `usable` refuses treated as "anything": an AND loses that
    part, an OR (and a lone literal) needs nothing any more."""
    if need is None:
        return None
    if isinstance(need, Literal):
        return need if usable(need.text) else None
    parts = [narrowed(part, usable) for part in need.parts]
    return _all(parts) if isinstance(need, AllOf) else _any(parts)


def literals(need: Need | None) -> list[str]:
    """Every literal of the formula, in order, once each."""
    if need is None:
        return []
    if isinstance(need, Literal):
        return [need.text]
    seen = dict.fromkeys(text for part in need.parts for text in literals(part))
    return list(seen)


def _all(parts: list[Need | None]) -> Need | None:
    kept: list[Need] = []
    for part in parts:
        if isinstance(part, AllOf):
            kept.extend(part.parts)
        elif part is not None and part not in kept:
            kept.append(part)
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else AllOf(tuple(kept))


def _any(parts: list[Need | None]) -> Need | None:
    if any(part is None for part in parts):
        return None  # one alternative admits every article: so does the OR
    kept: list[Need] = []
    for part in parts:
        assert part is not None
        for one in part.parts if isinstance(part, AnyOf) else (part,):
            if one not in kept:
                kept.append(one)
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else AnyOf(tuple(kept))


def index_form(folded: str) -> str:
    """Folded text as a trigram index holds it: every CJK character twice ("网信办" as
    "网网信信办办"), so that a two-character Chinese word spans a whole trigram and more."""
    return folded if folded.isascii() else _CJK.sub(r"\1\1", folded)


def index_text(title: str, text: str) -> str:
    """An article's folded title and text (profiles.normalize.fold) as the index holds them."""
    return index_form(title + "\n" + text)
