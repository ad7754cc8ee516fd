"""Text folding shared by query terms and articles, with a map back to the original characters.

One pass over the text: Unicode NFKC (full-width letters become ASCII), case folding,
Traditional Chinese folded to Simplified (OpenCC, character by character), typographic
apostrophes to ', invisible characters (zero-width spaces and joiners, soft hyphens, BOM)
dropped, hyphens and dashes written as "-", Russian ё as е, any run of whitespace
(full-width included) collapsed to one space, whitespace
between two CJK characters dropped (Chinese has none: "防火 长城" is "防火长城"), and pinyin
that mirror sites insert after characters removed ("互聯(lián)網(wǎng)" is "互联网").

`printable` is the other half of text hygiene: what must never reach a reader from a feed
(control characters, bidirectional overrides), removed from text as it comes in and again
before it is shown.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")
# Never shown as they came: C0 controls but tab and line feed (a terminal's escape sequences
# start with ESC; CR overwrites a line), DEL, C1 controls, and the bidirectional controls that
# reorder the text after them (U+202E shows "exe.txt" as "txt.exe").
_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_APOSTROPHES = frozenset("\u2019\u02bc\uff07")
# Hyphens and dashes that stand between word parts ("Welt‑Internet‑Konferenz") become "-".
_HYPHENS = frozenset("\u2010\u2011\u2012\u2013\u2212\ufe63\uff0d")
_LETTER_VARIANTS = {"ё": "е", "Ё": "е"}  # Russian writes е for ё as often as not
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_ASCII_PRINTABLE = frozenset(chr(c) for c in range(0x21, 0x7F))
# Runs of printable ASCII words joined by single spaces (most of an English text in a few
# pieces), runs of ASCII whitespace, runs of any other characters but whitespace (group 1:
# most of a Chinese text in a few pieces), or a single other whitespace character.
_CHUNKS = re.compile(r"[!-~]+(?: [!-~]+)*|[ \t\n\r\f\v]+|([^!-~\s]+)|.", re.DOTALL)
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
    if ch in _HYPHENS:
        return "-"
    if ch in _LETTER_VARIANTS:
        return _LETTER_VARIANTS[ch]
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
    folder = _Folder()
    # Printable ASCII runs fold to their lower case in one step (NFKC and case folding agree
    # with lower() there, and their single spaces stay); runs of other characters fold in one
    # str.translate where they can (see _Folder.other); whitespace becomes a pending space.
    for chunk in _CHUNKS.finditer(text):
        start, end = chunk.span()
        piece = chunk.group()
        if chunk.lastindex:
            folder.other(piece, start, skip)
        elif skip and start in skip:
            kept = [i for i in range(start, end) if i not in skip]
            if kept and piece[0] in _ASCII_PRINTABLE:
                folder.run("".join(text[i] for i in kept).lower(), kept)
        elif piece[0] in _ASCII_PRINTABLE:
            folder.run(piece.lower(), range(start, end))
        elif len(piece) > 1 or piece.isspace():
            folder.space(start)
        else:
            folder.char(_fold_char(piece), start)
    return "".join(folder.out), folder.origin


class _Folder:
    """Collects folded pieces and their origins; decides where a pending space survives."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.origin: list[int] = []
        self.space_at = -1  # original index of a pending space, -1 when none

    def space(self, index: int) -> None:
        if self.out and self.space_at < 0:
            self.space_at = index

    def _flush(self, next_char: str) -> None:
        if self.space_at >= 0:
            if not (is_cjk(self.out[-1][-1]) and is_cjk(next_char)):
                self.out.append(" ")
                self.origin.append(self.space_at)
            self.space_at = -1

    def run(self, folded: str, positions: range | list[int]) -> None:
        self._flush(folded[0])
        self.out.append(folded)
        self.origin.extend(positions)

    def char(self, folded: str, index: int) -> None:
        if folded == " ":
            self.space(index)
        elif folded:
            self._flush(folded[0])
            self.out.append(folded)
            self.origin.extend([index] * len(folded))

    def other(self, piece: str, start: int, skip: set[int]) -> None:
        """A run of characters that are neither printable ASCII nor whitespace.

        Folding them one at a time costs about a microsecond each (a millisecond per Chinese
        article), so the run is folded in one str.translate. That keeps the origins right
        only when every character folds to exactly one character: _ONE_TO_ONE drops the
        others (invisible characters, ligatures), so when the length changes, or when pinyin
        is to be skipped in the run, it goes through char() one character at a time instead.
        There is no whitespace in the run, so only its first character can meet a pending
        space, as it would in char().
        """
        end = start + len(piece)
        if not skip or skip.isdisjoint(range(start, end)):
            folded = piece.translate(_ONE_TO_ONE)
            if len(folded) == len(piece):
                self.run(folded, range(start, end))
                return
        for index, ch in enumerate(piece, start):
            if index not in skip:
                self.char(_fold_char(ch), index)


class _OneToOne(dict[int, str | None]):
    """A str.translate table filled on demand: a code point maps to its folded character
    when it folds to exactly one character other than a space, else to None (dropped)."""

    def __missing__(self, code: int) -> str | None:
        if len(self) >= 65536:  # like _fold_char's cache: odd texts must not grow it forever
            self.clear()
        folded = _fold_char(chr(code))
        value = folded if len(folded) == 1 and folded != " " else None
        self[code] = value
        return value


_ONE_TO_ONE = _OneToOne()


def _pinyin_spans(text: str) -> set[int]:
    if "(" not in text and "（" not in text:
        return set()
    return {i for m in _PINYIN.finditer(text) for i in range(m.start(), m.end())}


def fold_term(term: str) -> str:
    """The folded form of a query term."""
    return fold(term)[0]


CJK_RANGES = (  # the same ranges as is_cjk, for regular expressions
    "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002ffff"
)


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


def printable(text: str) -> str:
    """`text` without control characters and bidirectional controls (tab and line feed
    kept): safe to show on a terminal, in a message or a spreadsheet cell."""
    return _UNPRINTABLE.sub("", text) if _UNPRINTABLE.search(text) else text
