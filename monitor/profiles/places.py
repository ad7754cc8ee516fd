"""Where the nodes of a parsed query stand in its text: the line and column (1-based) of each
operand, NOT and NEAR, for messages about a query that parsed (lint.py).

The tree keeps no positions (its nodes are plain values, compared and hashed as such), but
walked depth first it meets its operands (terms, phrases, concepts, regexes, field tests),
its NOTs and its NEAR chains in the order the query's tokens hold them: the two are paired
in turn. Where the counts differ (a tree not parsed from this text, a `match:` profile's),
there are no places rather than wrong ones.
"""

from __future__ import annotations

import re

from lark.exceptions import UnexpectedInput

from monitor.profiles.nodes import And, Meta, Node, Not, Or, Proximity, Regex, Term
from monitor.profiles.querysyntax import parser

Places = dict[int, tuple[int, int]]  # id of a node -> (line, column) in the query text
_OPERANDS = frozenset({"TERM", "PHRASE", "REGEX", "CONCEPT"})
_SLOP = re.compile(r'(?:\w+:)*"(?:[^"\\]|\\.)*"~\d+')


def is_slop(node: Node) -> bool:
    """A `"a b"~n` phrase (one token in the query), not a NEAR chain."""
    return isinstance(node, Proximity) and _SLOP.fullmatch(node.source) is not None


def query_places(query: Node, text: str) -> Places:
    """Where each operand, NOT and NEAR chain of `query` stands in `text`, by id of the node:
    an operand's first character, a NOT's (or -'s), a NEAR chain's first NEAR/n."""
    try:
        tokens = list(parser().lex(text)) if text.strip() else []
    except UnexpectedInput:
        return {}
    leaves: list[Node] = []
    negations: list[Node] = []
    nears: list[Proximity] = []

    def visit(node: Node) -> None:  # as deep as the query nests: at most MAX_DEPTH
        if isinstance(node, Term | Regex | Meta) or is_slop(node) or _is_concept(node):
            leaves.append(node)
        elif isinstance(node, Not):
            negations.append(node)
            visit(node.part)
        elif isinstance(node, And | Or | Proximity):
            if isinstance(node, Proximity):
                nears.append(node)
            for part in node.parts:
                visit(part)

    visit(query)
    operands = [t for t in tokens if t.type in _OPERANDS]
    nots = [t for t in tokens if t.type in ("NOT", "MINUS")]
    near_ops = [t for t in tokens if t.type == "NEAR"]
    if (
        len(operands) != len(leaves)
        or len(nots) != len(negations)
        or len(near_ops) != sum(len(p.parts) - 1 for p in nears)
        or any(str(t) not in n.source for t, n in zip(operands, leaves, strict=True))
    ):
        return {}
    places = {id(n): (t.line or 1, t.column or 1) for t, n in zip(operands, leaves, strict=True)}
    places |= {id(n): (t.line or 1, t.column or 1) for t, n in zip(nots, negations, strict=True)}
    at = 0
    for near in nears:
        places[id(near)] = (near_ops[at].line or 1, near_ops[at].column or 1)
        at += len(near.parts) - 1
    return places


def place_of(node: Node, places: Places, *, start: bool = False) -> tuple[int, int] | None:
    """Where a node stands: its own place (a NOT's and a NEAR's are their operator's), else,
    or with `start`, that of its first operand."""
    if id(node) in places and not start:
        return places[id(node)]
    pending = [node]
    while pending:
        n = pending.pop()
        operator = isinstance(n, Not) or (isinstance(n, Proximity) and not is_slop(n))
        if id(n) in places and not operator:
            return places[id(n)]
        if isinstance(n, Not):
            pending.append(n.part)
        elif isinstance(n, And | Or | Proximity):
            pending.extend(reversed(n.parts))
    return None


def _is_concept(node: Node) -> bool:
    return isinstance(node, Or) and bool(node.concept)
