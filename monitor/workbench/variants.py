"""The query a suggestion makes, written as a person would write it and built as a tree to
match again: `AND NOT phrase` or `OR phrase` added to the profile's query, and whether that
text parses; and where candidate phrases occur as the matcher finds a query term."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Literal, Protocol

from monitor.profiles.evaluate import FoldedField
from monitor.profiles.matcher import Matcher, outcome
from monitor.profiles.nodes import And, Node, Not, Or, Regex, Term, walk
from monitor.profiles.profile import Doc, Profile
from monitor.profiles.query import parse_query
from monitor.profiles.querysyntax import QueryError

Kind = Literal["exclude", "add"]


class Text(Protocol):
    """A text to match again: its key, its doc and its fields, folded once."""

    @property
    def key(self) -> int: ...

    @property
    def doc(self) -> Doc: ...

    @property
    def fields(self) -> dict[str, FoldedField]: ...


class Checker:
    """Writes the query each suggestion makes and matches it again. A batch of suggestions
    is compiled into one matcher (the profile's own terms once, each its one new term), and
    each is evaluated only on the texts that hold its phrase: nothing else can change."""

    def __init__(self, profile: Profile, concepts: Mapping[str, tuple[str, ...]]) -> None:
        self.profile = profile
        self.concepts = concepts
        self.regex = any(isinstance(n, Regex) for n in walk(profile.query))
        self.written = written_query(profile)
        self.matcher = Matcher([])
        self._parsed: dict[Kind, bool] = {}

    def variants(self, kind: Kind, phrases: Iterable[str]) -> dict[str, Profile]:
        """The profile with each phrase excluded (or added), compiled together."""
        made = {phrase: self._variant(kind, phrase) for phrase in phrases}
        self.matcher = Matcher(made.values())
        return made

    def _variant(self, kind: Kind, phrase: str) -> Profile:
        """The profile as its query text with the fragment parses (the text is parsed once
        a suggestion is kept, in `parses`; here the tree is built on the one parsed)."""
        base = self.profile.query
        term = Term(phrase, source=quoted(phrase))
        node: Node
        if kind == "exclude":
            parts = base.parts if isinstance(base, And) else (base,)
            node = And((*parts, Not(term, f"NOT {term.source}")), "suggested")
        else:
            parts = base.parts if isinstance(base, Or) and not base.concept else (base,)
            node = Or((*parts, term), "suggested")
        return replace(self.profile, query=node, query_text=self.query(kind, phrase))

    def query(self, kind: Kind, phrase: str) -> str:
        """The profile's query with the fragment added, as a person would write it."""
        if kind == "add":
            return f"{self.written}\n{fragment(kind, phrase)}"
        grouped = isinstance(self.profile.query, Or) and not self.profile.query.concept
        written = f"({self.written})" if grouped else self.written
        return f"{written}\n{fragment(kind, phrase)}"

    def matches(self, variant: Profile, text: Text) -> bool:
        return outcome(self.matcher.evaluation(variant, text.doc, text.fields)).matched

    def parses(self, kind: Kind, phrase: str) -> bool:
        """Whether the query the suggestion makes parses as a saved profile's would. The
        profile's query with a fragment parses or not whatever the phrase (it may not when
        the query is at the nesting bound already: no suggestion anyone could take), so it
        is parsed once per kind; each phrase is parsed alone, as the term it is written as."""
        if kind not in self._parsed:
            self._parsed[kind] = self._parse(self.query(kind, "x"))
        return self._parsed[kind] and self._parse(quoted(phrase))

    def _parse(self, query: str) -> bool:
        try:
            parse_query(query, concepts=self.concepts, allow_regex=self.regex)
        except QueryError:
            return False
        return True


def present(phrases: Iterable[str], texts: Sequence[Text]) -> dict[str, set[int]]:
    """In which texts (keys) each phrase occurs as the matcher finds a query term: one scan
    of each text for all the phrases."""
    terms = tuple(Term(p, source=p) for p in phrases)
    if not terms or not texts:
        return {}
    probe = Profile(name="(phrases)", version="", query=Or(terms, "phrases"), min_score=0)
    matcher = Matcher([probe])
    found: dict[str, set[int]] = {}
    for text in texts:
        evaluation = matcher.evaluation(probe, text.doc, text.fields)
        assert isinstance(probe.query, Or)
        for term in evaluation.candidates(probe.query):
            if isinstance(term, Term) and evaluation.occurrences(term):
                found.setdefault(term.text, set()).add(text.key)
    return found


def fragment(kind: Kind, phrase: str) -> str:
    """What a suggestion adds to the query: `AND NOT phrase` or `OR phrase`."""
    return f"{'AND NOT' if kind == 'exclude' else 'OR'} {quoted(phrase)}"


def quoted(phrase: str) -> str:
    """A phrase as a query term: bare when it is one plain word, else in quotes."""
    plain = phrase.replace("-", "").replace("'", "").isalnum() and phrase[0].isalnum()
    if plain and " " not in phrase:
        return phrase
    return '"' + phrase.replace("\\", "\\\\").replace('"', '\\"') + '"'


def written_query(profile: Profile) -> str:
    """The profile's query as written; for a profile of `match:` lists, the query they make."""
    return profile.query_text.strip() or _written(profile.query)


def _written(node: Node) -> str:
    if isinstance(node, Term):
        return quoted(node.text)
    if isinstance(node, Not):
        return f"NOT {_written(node.part)}"
    if isinstance(node, Or):
        return "(" + " OR ".join(_written(p) for p in node.parts) + ")"
    if isinstance(node, And):
        return " AND ".join(_written(p) for p in node.parts)
    return node.source
