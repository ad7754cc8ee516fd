"""Equivalence of the fast text folding and word numbering with the reference versions.

`fold` folds runs of non-ASCII characters in one str.translate and `FoldedField.token_at`
finds word starts with one regular expression; both must give exactly what the plain
character-by-character versions below (copied from before that change) give: the same
folded text, the same origin of every folded character and the same word number at every
offset. The helpers the change left alone (_fold_char, _pinyin_spans, is_cjk,
is_word_char) are shared.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.profiles.evaluate import FoldedField
from monitor.profiles.normalize import (
    _ASCII_PRINTABLE,
    _fold_char,
    _pinyin_spans,
    fold,
    is_cjk,
    is_word_char,
)

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"

# ---- reference implementations (character by character) --------------------------------

_REFERENCE_CHUNKS = re.compile(r"[!-~]+(?: [!-~]+)*|[ \t\n\r\f\v]+|.", re.DOTALL)


def reference_fold(text: str) -> tuple[str, list[int]]:
    skip = _pinyin_spans(text)
    folder = _ReferenceFolder()
    for chunk in _REFERENCE_CHUNKS.finditer(text):
        start, end = chunk.span()
        piece = chunk.group()
        if skip and start in skip:
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


class _ReferenceFolder:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.origin: list[int] = []
        self.space_at = -1

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


def reference_token_numbers(text: str) -> list[int]:
    numbers = []
    count = -1
    previous_word = False
    for ch in text:
        if is_cjk(ch):
            count += 1
            previous_word = False
        elif is_word_char(ch):
            if not previous_word:
                count += 1
            previous_word = True
        else:
            previous_word = False
        numbers.append(max(count, 0))
    return numbers


def reference_token_at(numbers: list[int], offset: int) -> int:
    return numbers[min(offset, len(numbers) - 1)] if numbers else 0


# ---- comparison helpers -----------------------------------------------------------------


def first_difference(a: str | list[int], b: str | list[int]) -> int:
    shorter = min(len(a), len(b))
    return next((i for i in range(shorter) if a[i] != b[i]), shorter)


def fold_differs(text: str) -> str | None:
    """None when fold agrees with the reference, else where it differs first."""
    (folded, origin), (expected, expected_origin) = fold(text), reference_fold(text)
    if folded != expected:
        at = first_difference(folded, expected)
        return f"folded {folded[at : at + 20]!r} != {expected[at : at + 20]!r} at {at}"
    if origin != expected_origin:
        at = first_difference(origin, expected_origin)
        return f"origin {origin[at : at + 5]} != {expected_origin[at : at + 5]} at {at}"
    return None


def tokens_differ(text: str) -> str | None:
    """None when token_at agrees with the reference at every offset (and a few past the end)."""
    numbers = reference_token_numbers(text)
    offsets = range(len(text) + 3)
    expected = numbers + [reference_token_at(numbers, o) for o in offsets[len(text) :]]
    got = list(map(FoldedField(text, text, list(range(len(text)))).token_at, offsets))
    if got == expected:
        return None
    at = next(o for o in offsets if got[o] != expected[o])
    near = text[max(at - 20, 0) : at + 20]
    return f"token_at({at}) = {got[at]}, expected {expected[at]}, near {near!r}"


def check(texts: dict[str, str], *, raw_tokens: bool = True, tokens: bool = True) -> None:
    """Fold every text both ways, and number the words of the folded text (and of the raw
    text, which has capitals, underscores and characters folding removes) both ways."""
    problems = []
    for name, text in texts.items():
        problem = fold_differs(text)
        if not problem and tokens:
            problem = tokens_differ(fold(text)[0])
        if not problem and tokens and raw_tokens:
            problem = tokens_differ(text)
        if problem:
            problems.append(f"{name}: {problem}")
    assert not problems, "\n".join(problems[:20])


# ---- hand-written cases -------------------------------------------------------------------

EDGE_CASES = [
    "",
    " ",
    "\u3000",
    "a",
    "中",
    "Hello, World!",
    "防火 长城",
    "防火  \t 长城",
    "防火\u3000长城",
    "防火\xa0长城",
    "防火 Great 长城",
    "GFW 防火长城 (Great Firewall) 是中国的互联网审查系统。",
    "全国人民代表大会常务委员会关于加强网络信息保护的决定",
    "網絡安全法 網路主權 互聯網 國家互聯網信息辦公室",
    "ＡＢＣ１２３ ｘｙｚ　全角　空格",
    "ｶﾀｶﾅ 半角カタカナ",
    "防\u200b火\u200c长\u200d城\u2060墙\ufeff网\u00ad络",
    "\u200b防火长城",
    "防火长城\u200b",
    "\u200b \u200b",
    "中 \u200b 文",
    "ﬁnance ﬂow 中ﬁ文 ﬃ",
    "中文ﬁ",
    "中\u200bﬁ文 ﬁ\u200b \u200b\u200bﬃ",
    "Straße STRASSE ß ẞ",
    "İstanbul ıi 中İ",
    "café cafe\u0301 中\u0301文 \u0301",
    "¨ ´ ¸ 中¨文",
    "互聯(lián)網(wǎng)",
    "互聯（lián）網（wǎng）大會",
    "互聯( lián )網(wǎng)abc 網(wǎng)\tdef",
    "網(wang) 網(wàng",
    "(lián) 網 (lián)",
    "emoji 😀 中😀文 👍🏽 🇨🇳",
    "𠀀𠀁 𪚥 中𠀀文 𠀀 文",
    "한국어 텍스트 日本語のテキスト カタカナ",
    "“quoted” ‘single’ it’s it＇s ʼokina",
    "Welt‑Internet‑Konferenz 2014–2024 — a−b ﹣ －",
    "ёлка ЁЛКА",
    "①②③ ㍿ ㎏ ½ ⅓",
    "\x00\x01\x1c\x1d\x1e\x1f\x7f\x85\x8a",
    "a\x00b 中\x00文 \x1c中\x1f文",
    "中\u2028文\u2029字\x85符",
    "tab\tnew\nline\r\ncr\x0bvt\x0cff",
    "word_with_underscores 中_文 123abc ٣٤٥ ၁၂",
    "mixed中文English混合text",
    "中。文，“引号”！？",
    "Ⅻ ⅻ Ⓐ ⓐ",
    "ｆｕｌｌ　ｗｉｄｔｈ　ＡＳＣＩＩ！",
    "\ud800 lone \udfff surrogates 中\ud800文",
]


def test_edge_cases() -> None:
    check({repr(text): text for text in EDGE_CASES})


def test_edge_cases_fold_as_documented() -> None:
    """A few outcomes spelled out, so that the reference itself is pinned down too."""
    assert fold("防火 长城") == ("防火长城", [0, 1, 3, 4])
    assert fold("防火 Great 长城") == ("防火 great 长城", list(range(11)))
    assert fold("互聯(lián)網(wǎng)")[0] == "互联网"
    assert fold("中\u200b文") == ("中文", [0, 2])
    assert fold("中ﬁ文") == ("中fi文", [0, 1, 1, 2])
    assert fold("ＡＢ　ｃ") == ("ab c", [0, 1, 2, 3])
    assert fold("𠀀 文") == ("𠀀文", [0, 2])


# ---- seeded random strings ------------------------------------------------------------------

ALPHABET = [
    *"abcXYZ019 _-.,'\"()",
    *"  \t\n",
    *"中文字防火长城网络互联",
    *"國網聯絡體為",
    *"ＡＢｃ１！（）　",
    *"\u200b\u200c\u200d\u2060\ufeff\u00ad",
    *"ﬁﬂß İ\u0301¨㍿½",
    *"“”‘’ʼ＇‐‑–—−",
    *"ёЁ한カｶ𠀀😀",
    *"\x00\x1c\x85\xa0\u2028",
    "(lián)",
    "（wǎng）",
    "( yī )",
]


def random_texts(count: int, seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(count):
        yield "".join(rng.choices(ALPHABET, k=rng.randint(0, 40)))


def test_random_strings() -> None:
    check({f"random #{n}": text for n, text in enumerate(random_texts(4000, seed=20240611))})


@pytest.mark.slow
def test_every_code_point() -> None:
    """Every code point up to the last CJK extension, and the tags and variation selectors,
    in runs of a few characters between spaces and next to ASCII and CJK: each meets the
    bulk path (and its table) and the word numbering."""
    codes = [*range(0xD800), *range(0xE000, 0x32400), *range(0xE0000, 0xE01F0)]
    rng = random.Random(7)
    pieces = []
    for i in range(0, len(codes), 5):
        pieces.append("".join(map(chr, codes[i : i + 5])))
        pieces.append(rng.choice([" ", "", "a", " 中", "\u3000"]))
    text = "".join(pieces)
    block = 20_000  # fold in blocks, so that a failure names a small piece
    check({f"code points, block {i}": text[i : i + block] for i in range(0, len(text), block)})


# ---- the shared corpus ----------------------------------------------------------------------


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def corpus_texts() -> tuple[dict[str, str], dict[str, str]]:
    """Every text file of the corpus as it is (HTML and feeds with their markup) and the
    strings inside its JSON files (escapes decoded); and, apart, the gzipped raw pages."""
    texts: dict[str, str] = {}
    pages: dict[str, str] = {}
    for path in sorted(CORPUS.rglob("*")):
        name = str(path.relative_to(CORPUS))
        if path.suffix in {".txt", ".html", ".htm", ".json", ".xml", ".csv", ".md"}:
            raw = path.read_bytes().decode("utf-8", "replace")
            texts[name] = raw
            if path.suffix == ".json":
                texts[f"{name} (strings)"] = "\n".join(_strings(json.loads(raw)))
        elif path.suffix == ".gz":
            pages[name] = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
    return texts, pages


@pytest.mark.slow
def test_corpus() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"no corpus at {CORPUS}")
    texts, pages = corpus_texts()
    assert texts, f"no text files under {CORPUS}"
    assert any(sum(map(is_cjk, t)) > 1000 for t in texts.values()), "no Chinese text found"
    check(texts, raw_tokens=False)
    # 31 million characters of mostly markup, whose article text ground-truth.json holds:
    # folded both ways, but their words are not numbered both ways (a minute in Python).
    check(pages, tokens=False)
