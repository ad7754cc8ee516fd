"""Text folding shared by terms and articles, with a map back to the original characters."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# Characters that carry no letters: zero-width spaces/joiners, word joiner, BOM, soft hyphen.
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")
# Typographic apostrophes are written for the ASCII one ("China’s" = "China's").
_APOSTROPHES = frozenset("\u2019\u02bc\uff07")


@lru_cache(maxsize=65536)
def _fold_char(ch: str) -> str:
    if ch in _INVISIBLE:
        return ""
    if ch.isspace():
        return " "
    if ch in _APOSTROPHES:
        return "'"
    return unicodedata.normalize("NFKC", ch).casefold()


def fold(text: str) -> tuple[str, list[int]]:
    """Fold text for matching: NFKC, case folding, typographic apostrophes to ', invisible
    characters dropped, runs of any whitespace (full-width included) collapsed to one space.

    Returns the folded text and, for each of its characters, the index of the original
    character it came from, so matches can be shown in the text as the author wrote it.
    """
    out: list[str] = []
    origin: list[int] = []
    last_space = True  # also strips leading whitespace
    for index, ch in enumerate(text):
        folded = _fold_char(ch)
        if not folded:
            continue
        if folded == " ":
            if last_space:
                continue
            last_space = True
        else:
            last_space = False
        out.append(folded)
        origin.extend([index] * len(folded))
    folded_text = "".join(out)
    if folded_text.endswith(" "):
        folded_text = folded_text[:-1]
        origin.pop()
    return folded_text, origin


def fold_term(term: str) -> str:
    """The folded form of a profile term."""
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
