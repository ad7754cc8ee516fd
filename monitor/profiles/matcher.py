"""Match every profile against an article at once.

All terms of all profiles go into one Aho-Corasick automaton, so scanning costs about the
same for ten terms or ten thousand. Terms in space-separated scripts must sit on word
boundaries (a plural or possessive ending is tolerated: "firewalls", "Firewall's"); CJK
terms match anywhere. Each profile's query is then evaluated on the positions found: only
profiles with at least one term present are looked at.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from ahocorasick_rs import AhoCorasick, MatchKind

from monitor.models import Match
from monitor.profiles.evaluate import Evaluation, FoldedField, Needs, Occurrence, OrIndex
from monitor.profiles.focus import unfocused
from monitor.profiles.learned import LearnedModel
from monitor.profiles.nodes import (
    Node,
    Or,
    Proximity,
    Regex,
    Term,
    needs_text,
    positive_leaves,
    walk,
)
from monitor.profiles.normalize import fold_term, is_word_char
from monitor.profiles.profile import Doc, Profile
from monitor.profiles.reasons import evidence
from monitor.profiles.snippets import snippets

LONG_OR = 8  # an OR with more parts than this is indexed by leaf, not scanned part by part
TITLE_WEIGHT = 3.0  # an occurrence in the headline says more than one in the body
_ENDINGS = ("s", "es", "'s", "s'")  # apostrophes are folded to ' before matching


@dataclass(frozen=True, slots=True)
class _Leaf:
    folded: str
    left_edge: bool  # must start at a word boundary
    right_edge: bool  # must end at a word boundary (after an optional plural/possessive)
    prefix: bool  # `censor*`: may run on to the end of the word


@dataclass(frozen=True, slots=True)
class _Compiled:
    profile: Profile
    leaf_ids: frozenset[int]
    needs_text: bool
    has_regex: bool


class Matcher:
    """All enabled profiles compiled together; build once, reuse for every article."""

    def __init__(self, profiles: Iterable[Profile]) -> None:
        self.profiles = [p for p in profiles if p.enabled]
        self._leaves: list[_Leaf] = []
        self._leaf_of: dict[tuple[str, bool], int] = {}
        self._term_leaf: dict[int, int] = {}  # id(Term node) → leaf id
        self._or_index: dict[int, OrIndex] = {}  # id(Or node) → its parts by leaf / needs
        self._part_needs: dict[int, tuple[Needs, ...]] = {}  # id(Proximity) → parts' needs
        self._by_pattern: dict[str, list[int]] = defaultdict(list)
        self._compiled = [self._compile(p) for p in self.profiles]
        # ahocorasick_rs: scanning stays flat as patterns grow, also with thousands of CJK
        # terms (pyahocorasick searches a node's children one by one: 4 ms vs 0.03 ms here)
        self._pattern_leaves = [tuple(ids) for ids in self._by_pattern.values()]
        self._automaton = (
            AhoCorasick(list(self._by_pattern), matchkind=MatchKind.Standard)
            if self._by_pattern
            else None
        )

    @property
    def term_count(self) -> int:
        return len(self._leaves)

    def _compile(self, profile: Profile) -> _Compiled:
        ids = set()
        has_regex = False
        for node in walk(profile.query):
            if isinstance(node, Term):
                ids.add(self._leaf_id(node))
            has_regex = has_regex or isinstance(node, Regex)
        for node in walk(profile.query):
            if isinstance(node, Proximity):
                self._part_needs[id(node)] = tuple(self._needs(p) for p in node.parts)
            if not isinstance(node, Or):
                continue
            if len(node.parts) > LONG_OR:
                terms: dict[int, list[Term]] = defaultdict(list)
                for part in node.parts:
                    if isinstance(part, Term):
                        terms[self._term_leaf[id(part)]].append(part)
                others = tuple((p, self._needs(p)) for p in node.parts if not isinstance(p, Term))
                self._or_index[id(node)] = (dict(terms), others)
            elif not all(isinstance(p, Term) for p in node.parts):  # clauses: skip the absent
                self._or_index[id(node)] = ({}, tuple((p, self._needs(p)) for p in node.parts))
        return _Compiled(profile, frozenset(ids), needs_text(profile.query), has_regex)

    def _needs(self, node: Node) -> Needs:
        """The leaves one of which must be found for `node` to hold (None: it may hold with
        none of them, through a NOT, a regex or metadata)."""
        leaves = positive_leaves(node)
        if not needs_text(node) or any(isinstance(leaf, Regex) for leaf in leaves):
            return None
        return frozenset(self._term_leaf[id(leaf)] for leaf in leaves if isinstance(leaf, Term))

    def _leaf_id(self, term: Term) -> int:
        if id(term) in self._term_leaf:
            return self._term_leaf[id(term)]
        folded = fold_term(term.text) or "\x00"  # the parser refuses empty terms; never match
        key = (folded, term.prefix)
        if key not in self._leaf_of:
            self._leaf_of[key] = len(self._leaves)
            self._leaves.append(
                _Leaf(folded, is_word_char(folded[0]), is_word_char(folded[-1]), term.prefix)
            )
            self._by_pattern[folded].append(self._leaf_of[key])
        self._term_leaf[id(term)] = self._leaf_of[key]
        return self._leaf_of[key]

    def match(self, doc: Doc, fields: dict[str, FoldedField] | None = None) -> list[Match]:
        """Every profile this article satisfies, with matched terms, score and snippets
        (`fields`: the doc's folded title and text, when the caller folded them already)."""
        fields = fields or folded_fields(doc)
        found = self._scan(fields)
        matches = []
        for compiled in self._compiled:
            if (
                compiled.needs_text
                and not compiled.has_regex
                and compiled.leaf_ids.isdisjoint(found)
            ):
                continue
            evaluation = self.evaluation(compiled.profile, doc, fields, found)
            if not evaluation.holds() and not _rescued(evaluation):
                continue  # no match: what the query found is only wanted to explain it
            result = outcome(evaluation)
            if result.matched:
                matches.append(result.as_match())
        return matches

    def evaluation(
        self,
        profile: Profile,
        doc: Doc,
        fields: dict[str, FoldedField] | None = None,
        found: dict[int, list[Occurrence]] | None = None,
    ) -> Evaluation:
        """The query of `profile` evaluated on `doc` (also used to explain a match)."""
        if fields is None:
            fields = {"title": FoldedField.of(doc.title), "text": FoldedField.of(doc.text)}
        if found is None:
            found = self._scan(fields)
        return Evaluation(
            profile, doc, fields, found, self._term_leaf, self._or_index, self._part_needs
        )

    def _scan(self, fields: dict[str, FoldedField]) -> dict[int, list[Occurrence]]:
        """Each leaf's occurrences, field by field and by offset within a field (a leaf is
        one pattern: the automaton reports its matches in order; evaluate's NEAR relies on it)."""
        found: dict[int, list[Occurrence]] = defaultdict(list)
        if self._automaton is None:
            return found
        for name, field in fields.items():
            folded = field.folded
            if not folded:
                continue
            for pattern, first, last in self._automaton.find_matches_as_indexes(
                folded, overlapping=True
            ):
                for leaf_id in self._pattern_leaves[pattern]:
                    leaf = self._leaves[leaf_id]
                    start, end = first, last
                    if leaf.left_edge and start > 0 and is_word_char(folded[start - 1]):
                        continue
                    if leaf.prefix:
                        while end < len(folded) and is_word_char(folded[end]):
                            end += 1
                    elif leaf.right_edge:
                        end = _word_end(folded, end)
                        if end < 0:
                            continue
                    found[leaf_id].append(Occurrence(name, start, end))
        return found


def folded_fields(doc: Doc) -> dict[str, FoldedField]:
    """The doc's title and text folded, as Matcher.match reads them."""
    return {"title": FoldedField.of(doc.title), "text": FoldedField.of(doc.text)}


@dataclass(frozen=True, slots=True)
class Outcome:
    """A profile tested on an article: whether it matches and what it found either way."""

    profile: Profile
    matched: bool
    matched_terms: list[str]
    score: float
    snippets: list[str]
    evaluation: Evaluation
    why_not: str = ""  # for no match: the query does not hold, or the filter that failed
    learned: float | None = None  # the learned check's probability, where it was consulted

    def as_match(self) -> Match:
        return Match(
            profile=self.profile.name,
            profile_version=self.profile.version,
            matched_terms=self.matched_terms,
            score=self.score,
            snippet=self.snippets[0] if self.snippets else "",
            snippets=tuple(self.snippets),
            tags=self.profile.tags,
        )


def outcome(evaluation: Evaluation) -> Outcome:
    """Evaluate the query, the language and source filters and the minimum score.

    Terms and score come from the clauses that made the query hold (for a query that does
    not hold: from every positive term found, to show what was there); a match's snippets
    show the reasons it holds, best first (reasons.py). Terms are written as the text writes
    them where that differs from the query by more than letter case (網信辦 in a Traditional
    text for the query's 网信办).
    """
    profile = evaluation.profile
    holds = evaluation.holds()
    if holds:
        pairs, ranked = evidence(evaluation)
    else:
        pairs = [(leaf, evaluation.occurrences(leaf)) for leaf in positive_leaves(profile.query)]
        ranked = []
    terms: dict[str, None] = {}
    spans: list[Occurrence] = []
    seen: set[tuple[Occurrence, ...]] = set()
    for leaf, occurrences in pairs:
        key = tuple(occurrences)
        if occurrences and key not in seen:  # 網絡主權 and 网络主权 fold to one term
            seen.add(key)
            terms[_shown(leaf, occurrences[0], evaluation.fields)] = None
            spans += occurrences
    score = sum(TITLE_WEIGHT if o.field == "title" else 1.0 for o in set(spans))
    why_not = _why_not(evaluation, holds, score)
    if not why_not and profile.focus is not None:
        why_not = unfocused(profile.focus, [reason for _, reason in ranked], evaluation.fields)
    learned = None
    check = profile.learned if _knows_language(evaluation) else None
    if check is not None and not why_not and check.veto > 0:
        learned = learned_probability(evaluation, check.model)
        if learned < check.veto:
            why_not = f"learned check: {learned:.2f} is below veto {check.veto:g}"
    elif check and why_not and check.rescue is not None and spans and not _filtered(evaluation):
        # turned down by the query, its focus or its minimum score, with some of its terms found
        learned = learned_probability(evaluation, check.model)
        if learned >= check.rescue:  # a match; the terms found show where
            why_not = ""
            if not ranked:
                ranked = sorted(
                    ((float(len(_text_of(leaf))), (found[0],)) for leaf, found in pairs if found),
                    key=lambda reason: reason[0],
                    reverse=True,
                )
        else:
            why_not += f" (learned check {learned:.2f} is below rescue {check.rescue:g})"
    matched = not why_not
    found_snippets = (
        snippets([shown for _, shown in ranked], spans, evaluation.fields)
        if matched and spans  # the service needs them only for hits
        else []
    )
    return Outcome(
        profile, matched, list(terms), score, found_snippets, evaluation, why_not, learned
    )


def _text_of(leaf: Term | Regex) -> str:
    return leaf.text if isinstance(leaf, Term) else leaf.source


def _rescued(evaluation: Evaluation) -> bool:
    """Whether the learned check makes a match of an article the query does not hold on
    (some of the profile's terms occur in it: the caller has checked)."""
    check = evaluation.profile.learned
    if check is None or check.rescue is None or not _knows_language(evaluation):
        return False
    return learned_probability(evaluation, check.model) >= check.rescue


def _knows_language(evaluation: Evaluation) -> bool:
    """Whether the profile's learned model learnt from texts in the article's language (an
    article of unknown language is given to it)."""
    check = evaluation.profile.learned
    if check is None:
        return False
    languages = check.model.languages
    if not languages or evaluation.doc.language is None:
        return True
    return any(evaluation.language_is(code) for code in languages)


def learned_probability(evaluation: Evaluation, model: LearnedModel) -> float:
    """The learned model's probability for this profile and article; the article's vector
    is computed once and kept on its body's field for every profile that asks."""
    fields = evaluation.fields
    vectors = fields["text"].vectors
    if id(model) not in vectors:
        vectors[id(model)] = model.vector(fields["title"].folded + "\n" + fields["text"].folded)
    return model.probability(evaluation.profile.name, vectors[id(model)])


def _why_not(evaluation: Evaluation, holds: bool, score: float) -> str:
    """Why the profile does not match ("" when it does)."""
    if not holds:
        return "the query does not hold"
    filtered = _filtered(evaluation)
    if filtered:
        return filtered
    if score < evaluation.profile.min_score:  # min_score 0 lets a metadata-only query match
        return f"score {score:g} is below min_score {evaluation.profile.min_score:g}"
    return ""


def _filtered(evaluation: Evaluation) -> str:
    """Why the profile's language or source filter turns the article down ("" if neither)."""
    profile, doc = evaluation.profile, evaluation.doc
    if profile.languages and not any(evaluation.language_is(c) for c in profile.languages):
        return (
            f"the article's language ({doc.language or 'unknown'}) is not one of "
            f"languages: {', '.join(profile.languages)}"
        )
    if profile.sources and not any(evaluation.source_has(s) for s in profile.sources):
        return f"the source ({doc.source or 'unknown'}) is not one of sources: " + ", ".join(
            profile.sources
        )
    return ""


def _shown(leaf: Term | Regex, first: Occurrence, fields: dict[str, FoldedField]) -> str:
    """A matched term as the text writes it, or as the query does where the two differ only
    in letter case (or the term is a regular expression)."""
    if isinstance(leaf, Regex):
        return leaf.source
    star = "*" if leaf.prefix else ""
    length, plain = _folded_length_and_plain(leaf.text)
    field = fields[first.field]
    start, end = field.origin[first.start], field.origin[first.start + length - 1] + 1
    if end - start == length and field.original[start:end] == plain:  # the usual case
        return leaf.text + star
    spelling = field.spelling(first.start, first.start + length)
    return (leaf.text if not spelling or spelling.casefold() == plain else spelling) + star


@lru_cache(maxsize=65536)
def _folded_length_and_plain(term: str) -> tuple[int, str]:
    """How long a term is once folded, and the term case-folded, whitespace made one space."""
    return len(fold_term(term)), " ".join(term.split()).casefold()


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
