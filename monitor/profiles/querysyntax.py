"""The query language's syntax: the grammar (lark), its parser built on first use, and what it
says about a query it cannot read (QueryError, with the line and a caret under the column) or
reads other than was probably meant (query_warnings). The translation of what parses into a
query tree, and the bounds of a query, are in monitor.profiles.query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from monitor.profiles.nodes import META_FIELDS

CARET_WIDTH = 100  # characters of a long query line shown around an error's column

GRAMMAR = r"""
?start: or_expr

// Repetitions, not left recursion: a profile may OR together thousands of terms, and a
// flat tree keeps every later step (and lark's transformer) far from the recursion limit.
?or_expr: and_expr (OR and_expr)+      -> or_
        | and_expr

?and_expr: unary (AND? unary)+         -> and_
         | unary

?unary: NOT unary                      -> not_
      | MINUS unary                    -> not_
      | near

?near: scoped (NEAR scoped)+           -> near
     | scoped

?scoped: FIELD base                    -> scoped
       | base

?base: TERM                            -> term
     | PHRASE SLOP?                    -> phrase
     | REGEX                           -> regex
     | CONCEPT                         -> concept
     | "(" or_expr ")"

OR.3: /OR(?=[\s()"]|$)/
AND.3: /AND(?=[\s()"]|$)/
NOT.3: /NOT(?=[\s()"]|$)/
NEAR.3: /NEAR\/\d+(?=[\s()"]|$)/
FIELD.3: /(title|text|url|source|lang):/
MINUS.2: /-(?=[^\s-])/
PHRASE: /"(?:[^"\\]|\\.)*"/
SLOP: /~\d+/
REGEX: /\/(?:[^\/\\\n]|\\.)+\//
CONCEPT: /@[^\s()":@]+/
TERM: /[^\s()":\/\-~@][^\s()":]*/

%import common.WS
%ignore WS
"""

_EXPECTED = {
    "TERM": "a term",
    "PHRASE": 'a "phrase"',
    "REGEX": "a /regex/",
    "CONCEPT": "an @concept",
    "LPAR": "'('",
    "RPAR": "')'",
    "FIELD": "a field such as title:",
    "NOT": "NOT",
    "MINUS": "'-'",
    "AND": "AND",
    "OR": "OR",
    "NEAR": "NEAR/n",
    "SLOP": "~n",
    "$END": "the end of the query",
}
_FIRST = ("TERM", "PHRASE", "CONCEPT", "LPAR", "FIELD", "NOT", "MINUS", "REGEX")


@dataclass
class QueryError(Exception):
    """A query that does not parse, with the 1-based line and column in the query text."""

    message: str
    line: int
    column: int
    query: str

    def __str__(self) -> str:
        return f"{self.message} (line {self.line}, column {self.column} of the query)"

    def caret(self) -> str:
        """The offending query line with a caret under the column (a long line: the
        CARET_WIDTH characters around it, so a 10,000-term query gives a short message)."""
        text = self.query.splitlines()[self.line - 1] if self.query.strip() else ""
        at = self.column - 1
        if len(text) > CARET_WIDTH:
            start = max(0, min(at - CARET_WIDTH // 2, len(text) - CARET_WIDTH))
            cut = text[start : start + CARET_WIDTH]
            text = ("…" if start else "") + cut + ("…" if start + CARET_WIDTH < len(text) else "")
            at += (1 if start else 0) - start
        return f"    {text}\n    {' ' * at}^"


_PARSER: Lark | None = None


def parser() -> Lark:
    global _PARSER  # noqa: PLW0603  (built once, on first use, never at import)
    if _PARSER is None:
        _PARSER = Lark(
            # the basic lexer: a keyword stays a keyword even where the parser cannot take it
            GRAMMAR,
            parser="lalr",
            lexer="basic",
            propagate_positions=True,
            maybe_placeholders=False,
        )
    return _PARSER


@dataclass(frozen=True)
class QueryWarning:
    """Something in a query that parses but probably does not mean what it says."""

    message: str
    line: int  # 1-based, in the query text
    column: int
    query: str

    def caret(self) -> str:
        """The query line with a caret under the column."""
        return QueryError(self.message, self.line, self.column, self.query).caret()


_OPERATOR_WORD = re.compile(r"(?i:or|and|not|near/\d+)")


def query_warnings(query: str) -> list[QueryWarning]:
    """Operators written in lower case (`or`, `and`, `not`, `near/5`): the grammar reads them
    as words to search for, which is rarely what was meant. Quoted phrases are left alone."""
    try:
        tokens = list(parser().lex(query))
    except UnexpectedInput:
        return []  # parse_query says what is wrong
    return [
        QueryWarning(
            f"lowercase '{token}' is searched as a word; write {str(token).upper()} for the "
            "operator",
            token.line or 1,
            token.column or 1,
            query,
        )
        for token in tokens
        if token.type == "TERM" and _OPERATOR_WORD.fullmatch(token) and token != token.upper()
    ]


def syntax_error(exc: UnexpectedInput, query: str) -> QueryError:
    """Lark's error as a QueryError: where, and what the grammar expected there."""
    line, column = exc.line if exc.line > 0 else 1, exc.column if exc.column > 0 else 1
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        char = query[pos] if pos < len(query) else ""
        if char == '"':
            return QueryError('unclosed quote: a phrase needs a closing "', line, column, query)
        if char == ":":
            fields = ", ".join(f"{f}:" for f in ("title", "text", *META_FIELDS))
            return QueryError(f"unknown field; fields are {fields}", line, column, query)
        if char == "/":
            return QueryError(
                "unclosed regular expression: it needs a closing /", line, column, query
            )
        return QueryError(f"unexpected character {char!r}", line, column, query)
    expected = set(getattr(exc, "expected", set()) or getattr(exc, "accepts", set()))
    wanted = [_EXPECTED[name] for name in (*_FIRST, "RPAR") if name in expected]
    what = ", ".join(wanted) or "a term"
    token = getattr(exc, "token", None)
    if isinstance(exc, UnexpectedEOF) or (token is not None and token.type == "$END"):
        lines = query.splitlines() or [""]
        return QueryError(
            f"the query ends too early: expected {what}", len(lines), len(lines[-1]) + 1, query
        )
    return QueryError(f"unexpected {str(token)!r}: expected {what}", line, column, query)
