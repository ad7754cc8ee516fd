"""The query language: a Lucene-style grammar (lark, in monitor.profiles.querysyntax) and its
translation into a query tree.

    great firewall                      both words (the default operator is AND)
    "great firewall" OR 防火长城         a phrase, or a Chinese term
    censor* -"fire safety"              a prefix wildcard; `-x` and `NOT x` exclude
    "cyberspace administration draft"~10   all three words within 10 words of each other
    @CAC NEAR/5 (draft OR 草案)          a concept (config/concepts.yaml) near a term
    title:(firewall OR 防火长城) lang:zh  field scopes: title text url source lang
    /GFW-?\\d+/                          a regular expression (only where a profile allows)

Precedence, tightest first: field scope, NEAR, NOT/-, AND (also implicit), OR.

A query is bounded so that no profile can exhaust the parser, the matcher or the evaluation:
at most MAX_DEPTH levels of parentheses and NOT, distances up to MAX_DISTANCE, at most
MAX_PARTS parts in a NEAR chain or words in a ~n phrase (docs/profiles.md, "Limits").
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import regex
from lark import Token, Transformer, v_args
from lark.exceptions import UnexpectedInput, VisitError

from monitor.profiles.nodes import (
    META_FIELDS,
    And,
    Meta,
    Node,
    Not,
    Or,
    Proximity,
    Regex,
    Term,
    TextField,
)
from monitor.profiles.normalize import fold_term
from monitor.profiles.querysyntax import QueryError, parser, syntax_error

# Far beyond what a person writes, far below what recursion over the tree can take (Python's
# limit is 1000 frames: each level costs a few, in the transformer and in the evaluation).
MAX_DEPTH = 32  # levels of parentheses and NOT/- (each counts one)
MAX_DISTANCE = 1000  # NEAR/n and ~n: more words than most articles hold; beyond, use AND
MAX_PARTS = 16  # parts of a NEAR chain, words of a ~n phrase: each part is work per article


class _Build(Transformer[Token, Node]):
    """Turns the parse tree into query nodes; checks what the grammar cannot."""

    def __init__(self, query: str, concepts: Mapping[str, tuple[str, ...]], allow_regex: bool):
        super().__init__()
        self.query = query
        self.concepts = concepts
        self.allow_regex = allow_regex

    def _error(self, message: str, token: Token) -> QueryError:
        return QueryError(message, token.line or 1, token.column or 1, self.query)

    @v_args(inline=True)
    def term(self, token: Token) -> Node:
        text = str(token)
        prefix = text.endswith("*")
        word = text.rstrip("*")
        if "*" in word or "?" in word:
            raise self._error("a wildcard is only allowed at the end of a term (censor*)", token)
        if not word:
            raise self._error("a wildcard needs a few letters before it (censor*)", token)
        if not fold_term(word):
            raise self._error("this term holds only invisible characters", token)
        return Term(word, prefix=prefix, source=text)

    @v_args(inline=True)
    def phrase(self, token: Token, slop: Token | None = None) -> Node:
        text = re.sub(r"\\(.)", r"\1", str(token)[1:-1]).strip()
        if not fold_term(text):
            raise self._error("an empty phrase matches nothing", token)
        source = str(token) + (str(slop) if slop else "")
        if slop is None:
            return Term(text, source=source)
        words = text.split()
        if len(words) < 2:
            raise self._error("~n needs a phrase of two or more words", slop)
        if len(words) > MAX_PARTS:
            raise self._error(
                f"a ~n phrase has at most {MAX_PARTS} words (this one has {len(words)}); "
                "join shorter ones with AND",
                token,
            )
        distance = self._distance(str(slop)[1:], "~n", slop)
        return Proximity(tuple(Term(w, source=w) for w in words), distance, source)

    def _distance(self, digits: str, what: str, token: Token) -> int:
        """The n of NEAR/n or ~n, refused above MAX_DISTANCE (before int(): a 5,000-digit
        number is past what Python converts)."""
        significant = digits.lstrip("0")
        if len(significant) > len(str(MAX_DISTANCE)) or int(significant or "0") > MAX_DISTANCE:
            shown = digits if len(digits) <= 12 else f"a {len(digits)}-digit number"
            raise self._error(
                f"{what}: the distance is at most {MAX_DISTANCE} words, not {shown} "
                "(for anywhere in the article, use AND)",
                token,
            )
        return int(significant or "0")

    @v_args(inline=True)
    def regex(self, token: Token) -> Node:
        if not self.allow_regex:
            raise self._error(
                "regular expressions are off for this profile (add `regex: true` to allow them)",
                token,
            )
        pattern = str(token)[1:-1].replace("\\/", "/")
        try:
            regex.compile(pattern)
        except regex.error as exc:
            raise self._error(f"invalid regular expression: {exc}", token) from None
        return Regex(pattern, source=str(token))

    @v_args(inline=True)
    def concept(self, token: Token) -> Node:
        name = str(token)[1:]
        if name not in self.concepts:
            known = ", ".join(f"@{n}" for n in sorted(self.concepts)) or "none defined"
            raise self._error(f"unknown concept @{name} (known: {known})", token)
        aliases = tuple(
            Term(alias.rstrip("*"), prefix=alias.endswith("*"), source=alias)
            for alias in self.concepts[name]
        )
        return Or(aliases, str(token), concept=name)

    @v_args(inline=True)
    def scoped(self, field: Token, node: Node) -> Node:
        name = str(field)[:-1]
        if name in META_FIELDS:
            if not isinstance(node, Term) or node.prefix:
                raise self._error(f"{name}: takes one term or one quoted phrase", field)
            return Meta(name, node.text, f"{field}{node.source}")  # type: ignore[arg-type]
        return _scope(node, name)  # type: ignore[arg-type]

    def near(self, items: list[Node | Token]) -> Node:
        parts = [i for i in items if not isinstance(i, Token)]
        ops = [i for i in items if isinstance(i, Token)]
        if len(parts) > MAX_PARTS:
            raise self._error(
                f"a NEAR chain joins at most {MAX_PARTS} parts (this one has {len(parts)}); "
                "join shorter chains with AND",
                ops[MAX_PARTS - 1],
            )
        distances = {self._distance(str(op).split("/")[1], "NEAR/n", op) for op in ops}
        if len(distances) > 1:
            raise self._error("a chain of NEAR/n needs one distance; use parentheses", ops[1])
        for part, op in zip(parts, [ops[0], *ops], strict=True):
            if not _positional(part):
                raise self._error(
                    "NEAR/n joins terms, phrases, concepts or (a OR b) groups of them", op
                )
        source = " ".join(
            piece
            for part, op in zip(parts, ["", *ops], strict=True)
            for piece in (str(op), _src(part))
            if piece
        )
        # a chain of k parts allows N other words per gap: a NEAR/1 b NEAR/1 c fits "a x b x c"
        return Proximity(tuple(parts), distances.pop() * (len(parts) - 1), source)

    def and_(self, items: list[Node | Token]) -> Node:
        parts = tuple(i for i in items if not isinstance(i, Token))
        return And(parts, " AND ".join(_src(p) for p in parts))

    def or_(self, items: list[Node | Token]) -> Node:
        parts: list[Node] = []
        for item in items:
            if isinstance(item, Token):
                continue
            if isinstance(item, Or) and not item.concept:
                parts.extend(item.parts)  # (a OR b) OR c is a OR b OR c; concepts stay whole
            else:
                parts.append(item)
        return Or(tuple(parts), " OR ".join(_src(p) for p in parts))

    @v_args(inline=True)
    def not_(self, _op: Token, node: Node) -> Node:
        return Not(node, f"NOT {_src(node)}")


def _src(node: Node) -> str:
    """A node's query text, in parentheses where it is a group."""
    text = node.source
    grouped = isinstance(node, And) or (isinstance(node, Or) and not node.concept)
    grouped = grouped and " " in text
    return f"({text})" if grouped else text


def _scope(node: Node, field: TextField) -> Node:
    if isinstance(node, Term):
        return Term(node.text, field, node.prefix, f"{field}:{node.source}")
    if isinstance(node, Regex):
        return Regex(node.pattern, field, f"{field}:{node.source}")
    if isinstance(node, Meta):
        return node
    if isinstance(node, Not):
        return Not(_scope(node.part, field), f"{field}:{node.source}")
    parts = tuple(_scope(p, field) for p in node.parts)
    if isinstance(node, Proximity):
        return Proximity(parts, node.distance, f"{field}:{node.source}")
    if isinstance(node, Or):
        return Or(parts, f"{field}:{node.source}", node.concept)
    return And(parts, f"{field}:{node.source}")


def _positional(node: Node) -> bool:
    if isinstance(node, Term):
        return True
    if isinstance(node, Or):
        return all(_positional(p) for p in node.parts)
    return False


def parse_query(
    query: str,
    *,
    concepts: Mapping[str, tuple[str, ...]] | None = None,
    allow_regex: bool = False,
) -> Node:
    """Parse a query into nodes; QueryError says where and what was expected."""
    if not query.strip():
        raise QueryError("the query is empty", 1, 1, query)
    try:
        tree = parser().parse(query)
        _check_depth(query)
        node = _Build(query, concepts or {}, allow_regex).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, QueryError):
            raise exc.orig_exc from None
        raise
    except UnexpectedInput as exc:
        raise syntax_error(exc, query) from None
    if isinstance(node, Token):  # a lone token the grammar inlined
        raise QueryError("expected a term or a phrase", 1, 1, query)
    only_not = isinstance(node, And) and all(isinstance(p, Not) for p in node.parts)
    if isinstance(node, Not) or only_not:
        raise QueryError("a query needs something to match, not only exclusions", 1, 1, query)
    return node


_OPERANDS = frozenset({"TERM", "PHRASE", "REGEX", "CONCEPT"})


def _check_depth(query: str) -> None:
    """Refuse more than MAX_DEPTH levels of parentheses and NOT/-, where the first token
    goes past it. Done on the tokens, without recursion: the tree of 10,000 chained NOTs is
    what must never be built."""
    pending = [0]  # per open parenthesis: the NOT/- waiting for their operand
    for token in parser().lex(query):
        if token.type in ("NOT", "MINUS"):
            pending[-1] += 1
        elif token.type == "LPAR":
            pending.append(0)
        elif token.type == "RPAR" or token.type in _OPERANDS:
            if token.type == "RPAR" and len(pending) > 1:
                pending.pop()
            pending[-1] = 0  # an operand (or a closed group) ends the NOTs before it
        if len(pending) - 1 + sum(pending) > MAX_DEPTH:
            raise QueryError(
                f"the query nests too deeply: at most {MAX_DEPTH} levels of parentheses and "
                "NOT (each counts one); write it flatter",
                token.line or 1,
                token.column or 1,
                query,
            )
