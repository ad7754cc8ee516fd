"""Evaluating one profile's query on the term positions found in one article."""

from __future__ import annotations

import logging
import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Self

import regex

from monitor.profiles.nodes import And, Meta, Node, Not, Or, Proximity, Regex, Term
from monitor.profiles.normalize import CJK_RANGES, fold
from monitor.profiles.profile import Doc, Profile

log = logging.getLogger(__name__)

REGEX_SECONDS = 0.05  # a regular expression gets this long per field, then counts as no match
NEAR_ANCHORS = 1000  # occurrences of a NEAR's rarest part tried per field: bounded work
# For an OR: its Term parts by automaton leaf id (a long OR's only), and each other part with
# the leaf ids one of which must be found for it to hold (None: it may hold without any).
Needs = frozenset[int] | None
OrIndex = tuple[dict[int, list[Term]], tuple[tuple[Node, Needs], ...]]


@dataclass(frozen=True, slots=True)
class Occurrence:
    """Where a term occurs: the field and the character span in the field's folded text."""

    field: str
    start: int
    end: int


Window = tuple[Occurrence, ...]  # one occurrence per part of a NEAR, all in one stretch
_NOWHERE: list[Occurrence] = []  # the occurrences of a term not found (never changed)


@dataclass(slots=True)
class FoldedField:
    """A field's original text, its folded form and the map from one to the other."""

    original: str
    folded: str
    origin: list[int]
    _token_starts: list[int] | None = field(default=None, repr=False)
    # a learned model's view of the article (LearnedModel.vector), by id of the model
    vectors: dict[int, tuple[tuple[int, float], ...]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, text: str) -> Self:
        folded, origin = fold(text)
        return cls(text, folded, origin)

    def spelling(self, start: int, end: int) -> str:
        """The text as written behind folded[start:end]: the original characters (without
        those folding drops: invisible ones, inserted pinyin), any whitespace as one space."""
        first, last = self.origin[start], self.origin[end - 1]
        if last - first == end - 1 - start:  # one original character for each (most text)
            written = self.original[first : last + 1]
        else:
            picked = dict.fromkeys(self.origin[start:end])
            written = "".join(self.original[i] for i in picked)
        return " ".join(written.split())

    def token_at(self, offset: int) -> int:
        """The word number at a character offset (a CJK character counts as one word).

        Offsets past the end get the last word's number; characters before the first word,
        and any offset in a text without words, are word 0.
        """
        if self._token_starts is None:
            self._token_starts = _token_starts(self.folded)
        return max(bisect_right(self._token_starts, offset) - 1, 0)


# Words are found with a regular expression rather than a loop over the characters in
# Python, which took tens of milliseconds on a long text: a run of CJK characters (group 1),
# each of them a word, or a run of other letters and digits ([^\W_]: str.isalnum()).
_WORDS = re.compile(rf"([{CJK_RANGES}]+)|[^\W_{CJK_RANGES}]+")


def _token_starts(text: str) -> list[int]:
    """The offset of every word's first character, in order."""
    starts: list[int] = []
    for m in _WORDS.finditer(text):
        if m.lastindex:
            starts.extend(range(m.start(), m.end()))
        else:
            starts.append(m.start())
    return starts


class Evaluation:
    """One profile against one article; results are computed on demand and remembered."""

    def __init__(
        self,
        profile: Profile,
        doc: Doc,
        fields: dict[str, FoldedField],
        found: Mapping[int, list[Occurrence]],
        term_leaf: Mapping[int, int],
        or_index: Mapping[int, OrIndex] | None = None,
        part_needs: Mapping[int, tuple[Needs, ...]] | None = None,
    ) -> None:
        self.profile = profile
        self.doc = doc
        self.fields = fields
        self.found = found
        self._term_leaf = term_leaf  # id(Term node) → the automaton's leaf id
        self._or_index = or_index or {}
        self._part_needs = part_needs or {}  # id(NEAR) → what each part needs to be found
        self._memo: dict[int, bool] = {}
        self._near_windows: dict[int, list[Window]] = {}  # id(Proximity) → windows that fit
        self._parts_found: dict[int, list[Node]] = {}  # id(long Or) → its candidates
        self._regex_found: dict[int, list[Occurrence]] = {}  # id(Regex) → where it matched
        self._or_found: dict[int, list[Occurrence]] = {}  # id(Or) → its terms' occurrences

    def holds(self, node: Node | None = None) -> bool:
        node = self.profile.query if node is None else node
        key = id(node)
        if key not in self._memo:
            self._memo[key] = self._holds(node)
        return self._memo[key]

    def _holds(self, node: Node) -> bool:
        if isinstance(node, Term):  # usually absent: one dictionary lookup settles it
            return self._term_leaf.get(id(node)) in self.found and bool(self.occurrences(node))
        if isinstance(node, Regex):
            return bool(self.occurrences(node))
        if isinstance(node, Meta):
            return self._meta(node)
        if isinstance(node, And):
            return all(self.holds(p) for p in node.parts)
        if isinstance(node, Or):
            return any(self.holds(p) for p in self.candidates(node))
        if isinstance(node, Not):
            return not self.holds(node.part)
        return self._near(node)

    def occurrences(self, node: Node) -> list[Occurrence]:
        """Where a term, a regex or an OR of terms occurs (respecting field scopes)."""
        if isinstance(node, Term):
            found = self.found.get(self._term_leaf.get(id(node), -1), _NOWHERE)
            if node.field is None:
                return found  # shared: callers never change it
            return [o for o in found if o.field == node.field]
        if isinstance(node, Regex):
            if id(node) not in self._regex_found:
                self._regex_found[id(node)] = self._regex(node)
            return self._regex_found[id(node)]
        if isinstance(node, Or):  # a concept's OR is asked again by every clause that uses it
            if id(node) not in self._or_found:
                self._or_found[id(node)] = [
                    o for part in self.candidates(node) for o in self.occurrences(part)
                ]
            return self._or_found[id(node)]
        return []

    def near_windows(self, node: Proximity) -> list[Window]:
        """The windows of a NEAR that holds: one occurrence per part, in the order of its parts."""
        return self._near_windows.get(id(node), []) if self.holds(node) else []

    def candidates(self, node: Or) -> list[Node] | tuple[Node, ...]:
        """The parts of an OR that can hold: for a long OR of terms, only the terms found
        (looked up by leaf id); of the other parts (and of a short OR's, in their order) those
        with one of their terms found, or that may hold without one."""
        index = self._or_index.get(id(node))
        if index is None:
            return node.parts
        if id(node) not in self._parts_found:
            terms_by_leaf, others = index
            found: list[Node] = [
                t for leaf in self.found.keys() & terms_by_leaf.keys() for t in terms_by_leaf[leaf]
            ]
            found += [part for part, needs in others if needs is None or self._any_found(needs)]
            self._parts_found[id(node)] = found
        return self._parts_found[id(node)]

    def _any_found(self, leaves: frozenset[int]) -> bool:
        return not leaves.isdisjoint(self.found.keys())

    def leaves_of(self, node: Node) -> list[tuple[Term | Regex, list[Occurrence]]]:
        """The terms of a NEAR's part (a term or an OR of them) that occur, with where."""
        if isinstance(node, Term | Regex):
            return [(node, self.occurrences(node))] if self.holds(node) else []
        if isinstance(node, Or):
            return [pair for part in self.candidates(node) for pair in self.leaves_of(part)]
        return []

    def _regex(self, node: Regex) -> list[Occurrence]:
        out = []
        for name, folded in self.fields.items():
            if node.field is not None and name != node.field:
                continue
            try:
                for m in regex.finditer(node.pattern, folded.folded, timeout=REGEX_SECONDS):
                    if m.end() > m.start():
                        out.append(Occurrence(name, m.start(), m.end()))
            except TimeoutError:
                log.warning(
                    "profile %s: regex %s timed out on %s", self.profile.name, node.source, name
                )
        return out

    def _meta(self, node: Meta) -> bool:
        if node.field == "lang":
            return self.language_is(node.value)
        if node.field == "source":
            return self.source_has(node.value)
        return node.value.casefold() in self.doc.url.casefold()

    def language_is(self, code: str) -> bool:
        """Language codes match by prefix: zh matches zh-CN and zh-Hant."""
        language = (self.doc.language or "").lower().replace("_", "-")
        code = code.lower().replace("_", "-")
        return bool(language) and (language == code or language.startswith(code + "-"))

    def source_has(self, name: str) -> bool:
        return name.casefold() in self.doc.source.casefold()

    def _near(self, node: Proximity) -> bool:
        needs = self._part_needs.get(id(node), ())
        if not all(n is None or self._any_found(n) for n in needs):
            return False  # a part none of whose terms occur: settled by set lookups
        lists = []
        for part in node.parts:  # a part that does not occur settles it: skip the others
            found = self.occurrences(part)
            if not found:
                return False
            lists.append(found)
        windows: list[Window] = []
        for name, folded in self.fields.items():
            in_field: list[list[Occurrence]] = []
            for part, found in zip(node.parts, lists, strict=True):
                in_field.append([o for o in found if o.field == name])
                if not in_field[-1]:
                    break
                if not isinstance(part, Term):  # an OR's: runs of its terms', each in order
                    in_field[-1].sort(key=_START)
            else:
                windows += _windows(folded, in_field, node.distance)
        self._near_windows[id(node)] = windows
        return bool(windows)


_START = attrgetter("start")


def _windows(field: FoldedField, parts: list[list[Occurrence]], distance: int) -> list[Window]:
    """The stretches of `field` with at most `distance` other words that hold one occurrence
    of every part (`parts`: each part's occurrences in the field, by offset).

    Each occurrence of the rarest part is tried as an anchor, with the occurrence of every
    other part nearest to it; at most NEAR_ANCHORS of them, so the work per article is
    bounded (anchors x parts lookups), however often the parts occur."""
    rarest = min(range(len(parts)), key=lambda i: len(parts[i]))
    fitting: dict[Window, None] = {}  # in the order of the anchors, without repeats
    for anchor in parts[rarest][:NEAR_ANCHORS]:
        at = field.token_at(anchor.start)
        chosen = tuple(
            anchor if i == rarest else _nearest(field, others, anchor.start, at)
            for i, others in enumerate(parts)
        )
        spans = [(field.token_at(o.start), field.token_at(o.end - 1)) for o in chosen]
        first = min(start for start, _ in spans)
        last = max(end for _, end in spans)
        covered = len({t for start, end in spans for t in range(start, end + 1)})
        if (last - first + 1) - covered <= distance:
            fitting[chosen] = None
    return list(fitting)


def _nearest(field: FoldedField, found: list[Occurrence], offset: int, at: int) -> Occurrence:
    """Of occurrences sorted by offset, the one whose first word is nearest word `at` (which
    starts at `offset`); the earlier one on a tie."""
    i = bisect_left(found, offset, key=_START)
    near = [found[j] for j in (i - 1, i) if 0 <= j < len(found)]
    return min(near, key=lambda o: abs(field.token_at(o.start) - at))
