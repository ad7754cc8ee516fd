"""The key phrases of one document, for deriving a profile from it (derive.py): YAKE for the
languages written with spaces between words, jieba's words weighed by TF-IDF for Chinese.

YAKE (Campos et al., Information Sciences 509, 2020) scores a text's words and n-grams by
features of that text alone: letter case, position, frequency, how many sentences hold them,
how varied their neighbours are. It needs no model, no corpus and no download, works for any
language it has stop words for, and gives whole phrases ("town of Wuzhen", "internet
security"). It comes from yake-rust (MIT; a Rust port whose scores equal the reference
implementation's on the seed article, four times faster, no dependencies). The reference
package, `yake`, is AGPL-3.0 by its repository's licence (its metadata says LGPL or GPL): not
a licence for a dependency of a web service. KeyBERT needs a sentence-transformers model and
rake-nltk NLTK's corpora downloaded at run time, which cannot be done here or in CI.

Chinese is written without spaces: jieba (MIT, its dictionary and IDF table bundled; pkuseg
and THULAC need models or restrict commercial use) cuts it into tagged words. A noun scores by
TF-IDF, how often the text uses it times how rare it is in jieba's reference corpus, so 乌镇
(IDF 9.6) outranks 世界 (4.4); adjacent nouns also stand as one phrase (网络/主权 → 网络主权),
scored with the sum of their parts' IDF. Single characters never come out.

Scores are relative to the document's best phrase (1.0): they rank, they do not compare
documents.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from monitor.profiles import segment
from monitor.profiles.normalize import is_cjk

MAX_WORDS = 3  # the longest phrase YAKE proposes, in words
MAX_PARTS = 4  # the most jieba words a Chinese phrase joins (国家/互联网/信息/办公室)
# yake-rust 1.2 ships stop words for these (it stops the process on any other code): the
# languages monitor.ingest.language tells apart, less Korean and Vietnamese
YAKE_LANGUAGES = frozenset(
    {"en", "ru", "de", "fr", "es", "it", "pt", "nl", "pl", "tr", "uk", "ar", "id", "ja", "zh"}
)
# jieba's tags of words that can name what a text is about: nouns, proper nouns, places,
# organisations, verbal nouns (审查), idioms and fixed phrases (互联互通), Latin words (VPN)
_NOUNISH = frozenset({"n", "nz", "ns", "nt", "vn", "l", "eng", "j"})


@dataclass(frozen=True, slots=True)
class KeyPhrase:
    """A phrase as the document writes it, its score (the best phrase has 1.0) and how many
    words it joins."""

    text: str
    score: float
    words: int


def is_chinese(text: str, language: str | None) -> bool:
    """Chinese by its language code or, without one, by its letters (mostly Han)."""
    if language:
        return language.lower().startswith("zh")
    letters = [ch for ch in text[:2000] if ch.isalpha()]
    return bool(letters) and sum(map(is_cjk, letters)) > len(letters) / 2


def key_phrases(title: str, text: str, language: str | None, limit: int = 30) -> list[KeyPhrase]:
    """The `limit` best phrases of a document, best first."""
    if is_chinese(f"{title}\n{text}", language):
        return _chinese(title, text, limit)
    return _yake(f"{title}\n\n{text}" if title else text, language, limit)


def _yake(text: str, language: str | None, limit: int) -> list[KeyPhrase]:
    # imported here: a compiled extension nothing else needs
    from yake_rust import Yake  # noqa: PLC0415

    code = (language or "en").lower().split("-")[0]
    extractor = (
        Yake(language=code, ngrams=MAX_WORDS)
        if code in YAKE_LANGUAGES
        else Yake(stopwords=set(), ngrams=MAX_WORDS)  # the statistics alone
    )
    found = extractor.get_n_best(text, n=limit)
    if not found:
        return []
    best = max(min(score for _, score in found), 1e-12)  # YAKE: lower is better
    return [
        KeyPhrase(phrase, round(best / max(score, best), 3), len(phrase.split()))
        for phrase, score in found
    ]


def _chinese(title: str, text: str, limit: int) -> list[KeyPhrase]:
    words = [t.word if t.tag in _NOUNISH else None for t in segment.tokens(f"{title}\n{text}")]
    counts: Counter[tuple[str, ...]] = Counter()
    for start, word in enumerate(words):
        if word is None:
            continue
        for size in range(1, MAX_PARTS + 1):
            parts = words[start : start + size]
            if len(parts) < size or None in parts:
                break
            counts[tuple(w for w in parts if w is not None)] += 1
    rarity = dict(zip(
        (w for parts in counts for w in parts),
        segment.idf([w for parts in counts for w in parts]),
        strict=True,
    ))  # fmt: skip
    scored = {
        "".join(parts): count * sum(rarity[w] for w in parts)
        for parts, count in counts.items()
        if len("".join(parts)) >= 2  # a single character says nothing alone
    }
    ranked = sorted(scored.items(), key=lambda item: (-item[1], item[0]))[:limit]
    if not ranked:
        return []
    best = ranked[0][1]
    parts_of = {"".join(parts): len(parts) for parts in counts}
    return [KeyPhrase(phrase, round(score / best, 3), parts_of[phrase]) for phrase, score in ranked]
