"""Candidate phrases for the suggestions: the word n-grams of a text as the matcher folds it
(monitor.profiles.normalize), so that a phrase written into a query matches where it was
found.

A text is cut into units: the words of the scripts that separate words with spaces, and the
words of each run of Chinese (jieba, when it is installed; else one unit per character).
A phrase is 1 to 3 neighbouring words joined by one space, or 1 to 2 neighbouring Chinese
words (2 to 4 characters without jieba), at least two characters long. It is left out when
it starts or ends with a stopword or a number, or when it says only what the profile already
says (its words are all the profile's own terms). Each phrase found is counted, and marked
`near` when it stands within a few words of what made the profile match: an exclusion
should name the false sense of a matched term, not something elsewhere on the page.
"""

from __future__ import annotations

import importlib.util
import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache

from monitor.profiles.evaluate import FoldedField
from monitor.profiles.nodes import Node, Term, walk
from monitor.profiles.normalize import CJK_RANGES, fold_term, is_cjk

WORDS = 3  # words in a phrase of a space-separated script, at most
CJK_WORDS, CJK_CHARS = 2, (2, 4)  # Chinese words (jieba) or characters (without it)
NEAR_WORDS = 10  # "near" a match: within this many words of it
NEAR_CJK = 24  # ... or this many Chinese characters

_UNITS = re.compile(rf"([{CJK_RANGES}]+)|[^\W_{CJK_RANGES}]+(?:['\-][^\W_{CJK_RANGES}]+)*")

# Words that say nothing about a subject: a phrase may hold them inside ("rules of the
# road"), never at either end. English, Russian, German, French; Chinese function words.
_STOPWORDS = """
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers herself him himself his how i if in into is
it it's its itself just me more most my myself no nor not now of off on once only or other
our ours out over own same she should so some such than that that's the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself said says
say one two new also like may might must shall per via upon among within without across
around however since still yet whether either neither been every mr ms mrs year years time
times day days week month news according и в во не что он на я с со как а то все она так
его но да ты к у же вы за бы по только ее мне было вот от меня еще нет о из ему теперь
когда даже ну вдруг ли если уже или ни быть был него до вас нибудь опять уж вам ведь там
потом себя ничего ей может они тут где есть надо ней для мы тебя их чем была сам чтоб без
будто чего раз тоже себе под будет ж тогда кто этот того потому этого какой совсем ним
здесь этом один почти мой тем чтобы нее сейчас были куда зачем всех никогда можно при
наконец два об другой хоть после над больше тот через эти нас про всего них какая много
разве три эту моя впрочем хорошо свою этой перед иногда лучше чуть том нельзя такой им
более всегда конечно всю между это также который которые которая которых году года der die
das und in zu den von mit ist des sich dem nicht ein eine als auch es an auf für le la les
de des du et un une est en que qui dans pour par sur au aux 的 了 是 在 和 与 及 也 都 而
就 对 为 等 这 那 其 之 以 于 将 被 把 从 由 并 们 有 不 一 个 上 下 中 来 去 到 说 要 会
能 又 还 但 或 让 给 向 着 过 吗 呢 吧 啊 该 此 所 已 我 你 他 她 它 我们 他们 她们 这个
那个 这些 那些 一个 没有 就是 可以 因为 所以 如果 但是 以及 以来 进行 表示 认为 已经 目前
同时 通过 其中 由于 对于 关于 之后 之前 今年 去年 记者
"""
STOPWORDS = frozenset(_STOPWORDS.split())


@dataclass(frozen=True, slots=True)
class Unit:
    """A word of a folded text: its span, whether it is Chinese (or Japanese, Korean),
    whether it is written as a name (capitalised inside a sentence; a Chinese place or
    organisation), and whether a phrase may start or end with it."""

    start: int
    end: int
    cjk: bool
    name: bool = False
    edge: bool = True


@dataclass(slots=True)
class Found:
    """A phrase in one text: how often it occurs, whether once near what matched, whether
    it is one word written as a name (a place, a company, a product: not two, which are
    mostly a person's), and how many words it has."""

    count: int = 0
    near: bool = False
    name: bool = False
    size: int = 1


@dataclass(frozen=True, slots=True)
class OwnTerms:
    """The profile's own terms, folded: a phrase made only of them adds nothing."""

    words: frozenset[str] = frozenset()  # terms of one word
    prefixes: tuple[str, ...] = ()  # `censor*`
    longer: tuple[str, ...] = ()  # terms of several words, and Chinese ones

    def holds(self, phrase: str, words: list[str]) -> bool:
        """Whether `phrase` (of `words`) says nothing the profile does not already say: it
        is part of one of its terms, or each of its words is a term of one word."""
        if any(phrase in term for term in self.longer):
            return True
        if any(is_cjk(ch) for ch in phrase):
            return False
        return all(w in self.words or w in STOPWORDS or w.startswith(self.prefixes) for w in words)


def own_terms(query: Node) -> OwnTerms:
    """The terms of a query (its concepts' aliases included, those under NOT too)."""
    words: set[str] = set()
    prefixes: list[str] = []
    longer: list[str] = []
    for node in walk(query):
        if not isinstance(node, Term):
            continue
        folded = fold_term(node.text)
        parts = _latin_words(folded)
        if node.prefix and len(parts) == 1 and parts[0] == folded:
            prefixes.append(folded)
        elif len(parts) == 1 and parts[0] == folded:
            words.update((folded, folded.removesuffix("'s")))
        else:
            longer.append(folded)
    return OwnTerms(frozenset(words), tuple(sorted(set(prefixes))), tuple(sorted(set(longer))))


def _latin_words(folded: str) -> list[str]:
    return [m.group() for m in _UNITS.finditer(folded) if not m.group(1)]


def units(field: FoldedField, names: bool = True) -> list[Unit]:
    """The words of a folded field, in order, a run of Chinese cut into its words; `names`:
    mark the words written as names (not in a headline, where every word is capitalised)."""
    found: list[Unit] = []
    folded = field.folded
    cut = _segmenter()
    for m in _UNITS.finditer(folded):
        if not m.group(1):
            capital = names and _capitalised(field, m.start())
            found.append(Unit(m.start(), m.end(), cjk=False, name=capital))
            continue
        start = m.start()
        for word, flag in cut(m.group()):
            name = flag.startswith(_NAMES)
            edge = flag == "" or flag.startswith(_EDGES)
            found.append(Unit(start, start + len(word), cjk=True, name=name, edge=edge))
            start += len(word)
    return _single_names(found, folded)


def _single_names(found: list[Unit], folded: str) -> list[Unit]:
    """Capitalised words stay names only alone: one of a run of them ("Liu Liehong",
    "Alexander Ermochenko") is mostly part of a person's name, which is no exclusion."""
    out = []
    for i, unit in enumerate(found):
        prev, following = found[i - 1] if i else None, found[i + 1] if i + 1 < len(found) else None
        run = (prev is not None and prev.name and _joined(folded, prev, unit)) or (
            following is not None and following.name and _joined(folded, unit, following)
        )
        out.append(replace(unit, name=False) if unit.name and not unit.cjk and run else unit)
    return out


_NAMES = ("ns", "nt", "nz")  # jieba: place, organisation, other proper noun (not a person)
_EDGES = ("n", "v", "a", "j", "l", "i", "eng", "vn")  # content words: nouns, verbs, adjectives
_SENTENCE_END = frozenset(".!?:;。！？：；\n")


def _capitalised(field: FoldedField, start: int) -> bool:
    """Whether the word at `start` is written with a capital inside a sentence."""
    at = field.origin[start]
    if not field.original[at].isupper():
        return False
    before = field.original[:at].rstrip(" \t\"'“‘«(「『")
    return bool(before) and before[-1] not in _SENTENCE_END


@lru_cache(maxsize=1)
def _segmenter() -> Callable[[str], list[tuple[str, str]]]:
    """jieba's word cutter with each word's part of speech (monitor.profiles.segment: no
    cache file, loaded on first use) when jieba is installed, else one character at a time
    (no part of speech)."""
    if importlib.util.find_spec("jieba") is None:
        return _characters
    from monitor.profiles.segment import tokens  # noqa: PLC0415

    def words(run: str) -> list[tuple[str, str]]:
        return [(token.word, token.tag) for token in tokens(run)]

    return words


def _characters(run: str) -> list[tuple[str, str]]:
    return [(ch, "") for ch in run]


def segmented() -> bool:
    """Whether Chinese is cut into words (jieba) rather than characters."""
    return _segmenter() is not _characters


def phrases(
    field: FoldedField,
    near: Iterable[tuple[int, int]] = (),
    own: OwnTerms | None = None,
    *,
    names: bool = True,
) -> dict[str, Found]:
    """Every candidate phrase of a folded field, with its count; `near` when one occurrence
    starts within NEAR_WORDS words (NEAR_CJK characters) of one of the `near` spans."""
    folded = field.folded
    cut = units(field, names)
    close = _near_units(cut, near)
    out: dict[str, Found] = {}
    chinese_words = segmented()
    for i, first in enumerate(cut):
        longest = (CJK_WORDS if chinese_words else CJK_CHARS[1]) if first.cjk else WORDS
        for n in range(1, longest + 1):
            j = i + n - 1
            if j >= len(cut) or (n > 1 and not _joined(folded, cut[j - 1], cut[j])):
                break
            if not (first.edge and cut[j].edge):
                continue
            phrase = folded[first.start : cut[j].end]
            if not _wanted(phrase, [folded[u.start : u.end] for u in cut[i : j + 1]], own):
                continue
            seen = out.setdefault(phrase, Found(size=n))
            seen.count += 1
            seen.near = seen.near or i in close
            seen.name = seen.name or (n == 1 and first.name)
    return out


def _joined(folded: str, left: Unit, right: Unit) -> bool:
    """Whether two neighbouring units belong in one phrase: both Chinese and touching, or
    both not and one space apart."""
    if left.cjk != right.cjk:
        return False
    if left.cjk:
        return left.end == right.start
    return folded[left.end : right.start] == " "


def _wanted(phrase: str, words: list[str], own: OwnTerms | None) -> bool:
    if words[0] in STOPWORDS or words[-1] in STOPWORDS:
        return False
    if _number(words[0]) or _number(words[-1]):
        return False
    cjk = is_cjk(phrase[0])
    if cjk and not segmented() and not CJK_CHARS[0] <= len(phrase) <= CJK_CHARS[1]:
        return False
    if len(phrase) < (2 if cjk else 3):
        return False
    return own is None or not own.holds(phrase, words)


def _number(word: str) -> bool:
    return any(ch.isdigit() for ch in word) and not any(ch.isalpha() for ch in word)


def _near_units(cut: list[Unit], spans: Iterable[tuple[int, int]]) -> set[int]:
    """The numbers of the units within reach of the spans."""
    starts = [u.start for u in cut]
    close: set[int] = set()
    for start, end in spans:
        first = max(bisect_right(starts, start) - 1, 0)
        last = max(bisect_left(starts, end) - 1, first)
        reach = NEAR_CJK if first < len(cut) and cut[first].cjk else NEAR_WORDS
        if segmented() and reach == NEAR_CJK:
            reach //= 2  # a Chinese word is about two characters
        close.update(range(max(first - reach, 0), min(last + reach + 1, len(cut))))
    return close


@dataclass
class Tally:
    """A phrase over several texts: its weight in each (by key), the texts where it stands
    near a match, its count and its words. A text weighs 1, 1 more when the phrase stands
    near what matched, half the log of its count there (what a page is about, it repeats)
    and 0.75 when it is written as a name (another country, a company, a product: what a
    person excludes)."""

    weights: dict[int, float] = field(default_factory=dict)
    near: set[int] = field(default_factory=set)
    count: int = 0
    size: int = 1

    def add(self, key: int, found: Found) -> None:
        self.count += found.count
        self.size = found.size
        self.weights[key] = 1 + found.near + 0.5 * math.log(found.count) + 0.75 * found.name
        if found.near:
            self.near.add(key)

    def weight(self, keys: Iterable[int]) -> float:
        """What these texts give the phrase (1 for a text it was not counted in: found
        there by the matcher only, as a plural)."""
        return sum(self.weights.get(key, 1.0) for key in keys)
