"""Match every profile against an article at once: one Aho-Corasick automaton for all terms.

Terms and text are folded the same way (normalize.fold). Terms in space-separated scripts
match on word boundaries and tolerate plural and possessive endings ("firewalls",
"Firewall's"); terms in Chinese, Japanese or Korean match anywhere. Each profile's any / all /
none lists are then evaluated on the set of terms found.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick

from monitor.models import Match, Profile
from monitor.profiles.normalize import fold, fold_term, is_word_char

TITLE_WEIGHT = 3.0  # a term in the headline says more than one in the body
SNIPPET_RADIUS = 90  # characters of context on each side of the first match
MARK = "**"  # how matches are marked in snippets (Markdown bold)
_ENDINGS = ("s", "es", "'s", "s'")  # apostrophes are folded to ' before matching


@dataclass(frozen=True, slots=True)
class _Term:
    folded: str
    left_edge: bool  # must start at a word boundary
    right_edge: bool  # must end at a word boundary (after an optional plural/possessive)


@dataclass(frozen=True, slots=True)
class _Compiled:
    profile: Profile
    any_ids: frozenset[int]
    all_ids: frozenset[int]
    none_ids: frozenset[int]
    positive: tuple[tuple[str, int], ...]  # (term as written, term id), all terms then any terms


@dataclass(slots=True)
class _Field:
    original: str
    folded: str
    origin: list[int]


class Matcher:
    """All enabled profiles compiled into one automaton; build once, reuse for every article."""

    def __init__(self, profiles: Iterable[Profile]) -> None:
        self.profiles = [p for p in profiles if p.enabled]
        self._terms: list[_Term] = []
        self._ids: dict[str, int] = {}
        self._automaton = ahocorasick.Automaton()
        self._compiled = [
            _Compiled(
                profile,
                any_ids=frozenset(self._term_id(t) for t in profile.any_terms),
                all_ids=frozenset(self._term_id(t) for t in profile.all_terms),
                none_ids=frozenset(self._term_id(t) for t in profile.none_terms),
                positive=tuple(
                    (t, self._term_id(t)) for t in (*profile.all_terms, *profile.any_terms)
                ),
            )
            for profile in self.profiles
        ]
        if self._terms:
            self._automaton.make_automaton()

    def _term_id(self, term: str) -> int:
        folded = fold_term(term)
        if folded not in self._ids:
            self._ids[folded] = len(self._terms)
            self._terms.append(_Term(folded, is_word_char(folded[0]), is_word_char(folded[-1])))
            self._automaton.add_word(folded, self._ids[folded])
        return self._ids[folded]

    def match(self, title: str, text: str) -> list[Match]:
        """Every profile this article satisfies, with matched terms, score and a snippet."""
        if not self._terms:
            return []
        fields = {"title": _field(title), "text": _field(text)}
        found: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
        for name, field in fields.items():
            for term_id, start, end in self._scan(field.folded):
                found[term_id].append((name, start, end))
        if not found:
            return []
        return [m for c in self._compiled if (m := _evaluate(c, found, fields)) is not None]

    def _scan(self, folded: str) -> Iterable[tuple[int, int, int]]:
        for last, term_id in self._automaton.iter(folded):
            term = self._terms[term_id]
            start = last + 1 - len(term.folded)
            end = last + 1
            if term.left_edge and start > 0 and is_word_char(folded[start - 1]):
                continue
            if term.right_edge:
                end = _word_end(folded, end)
                if end < 0:
                    continue
            yield term_id, start, end


def _evaluate(
    compiled: _Compiled,
    found: dict[int, list[tuple[str, int, int]]],
    fields: dict[str, _Field],
) -> Match | None:
    """The Match of one profile given the terms found, or None when it does not hold."""
    if not compiled.none_ids.isdisjoint(found) or not compiled.all_ids.issubset(found):
        return None
    if compiled.any_ids and compiled.any_ids.isdisjoint(found):
        return None
    terms: dict[str, int] = {}
    for term, term_id in compiled.positive:
        if term_id in found and term_id not in terms.values():
            terms[term] = term_id
    spans = [span for term_id in terms.values() for span in found[term_id]]
    score = sum(TITLE_WEIGHT if where == "title" else 1.0 for where, _, _ in spans)
    profile = compiled.profile
    if score < profile.min_score:
        return None
    return Match(
        profile=profile.name,
        profile_version=profile.version,
        matched_terms=list(terms),
        score=score,
        snippet=_snippet(spans, fields),
        tags=profile.tags,
    )


def _field(text: str) -> _Field:
    folded, origin = fold(text)
    return _Field(text, folded, origin)


def _word_end(folded: str, end: int) -> int:
    """Where a boundary-checked term ends, allowing a plural or possessive; -1 if mid-word."""
    if end >= len(folded) or not is_word_char(folded[end]):
        return end
    for ending in _ENDINGS:
        stop = end + len(ending)
        if folded.startswith(ending, end) and (
            stop >= len(folded) or not is_word_char(folded[stop])
        ):
            return stop
    return -1


def _snippet(spans: list[tuple[str, int, int]], fields: dict[str, _Field]) -> str:
    """Context around the first body match (else the title), matches marked with MARK."""
    where = "text" if any(s[0] == "text" for s in spans) else "title"
    field = fields[where]
    marks = sorted((field.origin[s], field.origin[e - 1] + 1) for w, s, e in spans if w == where)
    first_start, first_end = marks[0]
    lo = max(0, first_start - SNIPPET_RADIUS)
    hi = min(len(field.original), first_end + SNIPPET_RADIUS)
    lo, hi = _widen_to_words(field.original, lo, hi)
    pieces: list[str] = []
    cursor = lo
    for start, end in marks:
        if start < cursor or end > hi:
            continue  # overlaps a span already marked, or lies outside the window
        pieces += [field.original[cursor:start], MARK, field.original[start:end], MARK]
        cursor = end
    pieces.append(field.original[cursor:hi])
    body = " ".join("".join(pieces).split())
    return ("…" if lo > 0 else "") + body + ("…" if hi < len(field.original) else "")


def _widen_to_words(text: str, lo: int, hi: int) -> tuple[int, int]:
    """Move the window edges out to the nearest space (at most 20 characters) to avoid cut words."""
    for _ in range(20):
        if lo <= 0 or text[lo - 1].isspace():
            break
        lo -= 1
    for _ in range(20):
        if hi >= len(text) or text[hi].isspace():
            break
        hi += 1
    return lo, hi
