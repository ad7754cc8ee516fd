"""Text folding shared by query terms and articles, with a map back to the original characters.

One pass over the text: Unicode NFKC (full-width letters become ASCII), case folding,
Traditional Chinese folded to Simplified (OpenCC, character by character), typographic
apostrophes to ', invisible characters (zero-width spaces and joiners, soft hyphens, BOM)
dropped, any run of whitespace (full-width included) collapsed to one space, whitespace
between two CJK characters dropped (Chinese has none: "防火 长城" is "防火长城"), and pinyin
that mirror sites insert after characters removed ("互聯(lián)網(wǎng)" is "互联网").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")
_APOSTROPHES = frozenset("\u2019\u02bc\uff07")
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
# A parenthesised pinyin syllable with a tone mark, right after a Han character.
_PINYIN = re.compile(
    rf"(?<=[\u3400-\u9fff\uf900-\ufaff])[(（]\s*[a-zü{_TONED}]*[{_TONED}][a-zü{_TONED}]*\s*[)）]"
)


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc  # noqa: PLC0415  (loads its dictionaries: only when first needed)

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def _fold_char(ch: str) -> str:
    if ch in _INVISIBLE:
        return ""
    if ch.isspace():
        return " "
    if ch in _APOSTROPHES:
        return "'"
    folded = unicodedata.normalize("NFKC", ch).casefold().replace(" ", "")  # "¨" is " ̈"
    if folded and is_cjk(folded[0]):
        folded = str(_t2s().convert(folded))
    return folded


def fold(text: str) -> tuple[str, list[int]]:
    """Fold text for matching (see the module docstring).

    Returns the folded text and, for each of its characters, the index of the original
    character it came from, so matches can be shown in the text as the author wrote it.
    """
    skip = _pinyin_spans(text)
    out: list[str] = []
    origin: list[int] = []
    space_at = -1  # original index of a pending space, -1 when none
    for index, ch in enumerate(text):
        if skip and index in skip:
            continue
        folded = _fold_char(ch)
        if not folded:
            continue
        if folded == " ":
            if out and space_at < 0:
                space_at = index
            continue
        if space_at >= 0:
            if not (is_cjk(out[-1][-1]) and is_cjk(folded[0])):
                out.append(" ")
                origin.append(space_at)
            space_at = -1
        out.append(folded)
        origin.extend([index] * len(folded))
    return "".join(out), origin


def _pinyin_spans(text: str) -> set[int]:
    if "(" not in text and "（" not in text:
        return set()
    return {i for m in _PINYIN.finditer(text) for i in range(m.start(), m.end())}


def fold_term(term: str) -> str:
    """The folded form of a query term."""
    return fold(term)[0]


def is_cjk(ch: str) -> bool:
    """Han, kana and Hangul: scripts written without spaces between words."""
    code = ord(ch)
    return (
        0x3040 <= code <= 0x30FF
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xAC00 <= code <= 0xD7AF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x2FFFF
    )


def is_word_char(ch: str) -> bool:
    """A letter or digit of a script that separates words with spaces."""
    return ch.isalnum() and not is_cjk(ch)
