"""What changed between two extracted texts of one article, sentence by sentence.

A re-check extracts the page again, but the same article often comes back re-rendered: other
line breaks and spacing, full-width digits, the Traditional edition of a Chinese site, curly
quotes for straight ones, a view counter that went up, a date line that now says "updated".
None of that is an edit. So both texts are cut into sentences (at line breaks and sentence
punctuation) and each sentence is compared by its key: folded as the matcher folds
(monitor.profiles.normalize.fold: width, case, Traditional to Simplified, whitespace; with
Chinese converted by phrase first, see _fold_sentence), then without whitespace and
punctuation, so a comma turned into a full stop changes nothing (a decimal point or thousands
separator between digits stays: "3.5" is not "35").

Boilerplate is a line that is only a date or time, only view/comment/share counters, or
shorter than 12 folded characters without sentence punctuation ("Related", "相关阅读",
"Credit: AP"). It takes part in aligning the two texts but never in the result: a line
re-wrapped so that its last word stands alone must still join up with the sentence it came
from. Where a run of sentences was replaced by another, the runs' keys are joined and only
the sentences that hold the difference count (_changed): a sentence cut in two by a line
break, or two joined, is not a change.

What is left is what an editor did: the sentences removed and added, as written, and the share
of the text (boilerplate not counted) they make up. How large a share makes an edit is
measured in benchmarks/evidence_threshold.py (monitor.evidence.classify.EDITED).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any

from monitor.profiles.normalize import fold

SHORT = 12  # a line shorter than this (folded) and without sentence punctuation is boilerplate

_CLOSE = r"[\"'”’」』）》)\]]*"  # closing quotes and brackets stay with the sentence they end
# 。！？ always end a sentence; ! and ? before a space, the end or a non-ASCII character (a
# Chinese sentence written with a half-width "!"); a full stop before a space or the end,
# unless it closes an abbreviation (_abbreviation).
_BOUNDARY = re.compile(rf"[。！？]+{_CLOSE}|[!?]+{_CLOSE}(?=\s|$|[^\x00-\x7f])|\.+{_CLOSE}(?=\s|$)")
# Words a full stop follows without ending the sentence ("Mr. Li", "No. 5", "2021 г. в").
_ABBREVIATED = (
    "mr mrs ms dr prof st mt no nos vs etc inc ltd co corp jr sr gen gov sen rep col lt sgt "
    "capt fig approx dept est jan feb mar apr jun jul aug sep sept oct nov dec "
    "г гг т тт им ул д др пр проф акад см тыс млн млрд руб коп стр"
)
_ABBREVIATIONS = frozenset(_ABBREVIATED.split())
_INITIALISM = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")  # "U.S", "т.е", "e.g" before their last dot
_HAN = re.compile("[\u3400-\u9fff\uf900-\ufaff]")
# Written alike in a key, measured on the corpus's Chinese texts and their OpenCC conversions:
# words OpenCC writes otherwise in Traditional and leaves so on the way back (昵称/暱稱,
# 想象/想像, 坐标/座標), and characters valid in both scripts that only a whole phrase
# converts (藉此/借此, 回覆/回复, 瞭解/了解, 顯著/着), so that it does not matter where a
# line break cut the phrase.
_VARIANTS = (("想像", "想象"), ("座标", "坐标"))
_CHARACTERS = str.maketrans("暱藉覆瞭著", "昵借复了着")
_SENTENCE_END = re.compile(r"[.!?。]")
_TRAILING_ELLIPSIS = re.compile(r"\.{2,}\s*$")  # fold writes "…" as "..."
# Characters a key drops: anything but letters and digits, except a "." or "," between digits.
_NOT_WORD = re.compile(r"(?<=\d)([.,])(?=\d)|[\W_]")

# A line made only of these is a date/time or a counter ("2024年5月1日 10:20", "May 29, 2023",
# "Обновлено: 5 мая 2024 г. в 12:30", "阅读 1,234", "1.2k views", "Просмотров: 5"); it must
# hold a digit. Matched on the folded (lower-case) line; possessive numbers keep it linear.
_DATE_WORDS = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    "|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|mon(?:day)?"
    "|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:rs(?:day)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?"
    "|a\\.m\\.|p\\.m\\.|am|pm|gmt|utc|bst|edt|est|cst|msk|bjt|published|updated|posted"
    "|modified|last|date|time|on|at|发布时间|发布日期|更新时间|发布于|更新于|发表于|时间|日期"
    "|星期.|周.|上午|下午|[年月日号时分秒]"
    "|январ[ья]|феврал[ья]|марта?|апрел[ья]|ма[йя]|июн[ья]|июл[ья]|августа?|сентябр[ья]"
    "|октябр[ья]|ноябр[ья]|декабр[ья]|понедельник|вторник|сред[аы]|четверг|пятниц[аы]"
    "|суббот[аы]|воскресенье|года?|гг?|мск|опубликовано|обновлено|дата|время|в"
)
_COUNT_WORDS = (
    "views?|reads?|comments?|shares?|likes?|replies|reply|reposts?|阅读量?|阅读数|浏览量?"
    "|浏览次数|评论|点赞|分享|转发|收藏|赞|次|人|热度|播放|просмотр(?:ов|а|ы)?"
    "|комментари(?:ев|я|й|и)?|репост(?:ов|а|ы)?|лайк(?:ов|а|и)?|тыс"
)
_DATE_OR_COUNT = re.compile(
    rf"(?:[\s\-/.:,|·•()\[\]【】]|\d++(?:[.,]\d++)*+(?:st|nd|rd|th|k|m|w|万|千|亿)?\+?"
    rf"|{_DATE_WORDS}|{_COUNT_WORDS})+"
)
_DATE_OR_COUNT_MAX = 80  # longer lines say something more


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence: as written, folded (whitespace collapsed), the key it is compared by, and
    whether the line it stands on is boilerplate."""

    text: str
    folded: str
    key: str
    boilerplate: bool = False


@dataclass(frozen=True, slots=True)
class TextChange:
    """The sentences an edit removed and added (as written, in order) and their share of the
    two texts' folded characters: 0.0 when nothing but boilerplate or rendering changed."""

    removed: tuple[str, ...]
    added: tuple[str, ...]
    share: float


def compare(before: str, after: str) -> TextChange:
    """What changed from `before` to `after` (see the module docstring)."""
    old, new = sentences(before, drop_boilerplate=False), sentences(after, drop_boilerplate=False)
    matcher = SequenceMatcher(None, [s.key for s in old], [s.key for s in new], autojunk=False)
    removed: list[Sentence] = []
    added: list[Sentence] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            gone, came = _changed(old[i1:i2], new[j1:j2])
            removed.extend(s for s in gone if not s.boilerplate)
            added.extend(s for s in came if not s.boilerplate)
    total = _length(old) + _length(new)
    share = (_length(removed) + _length(added)) / total if total else 0.0
    return TextChange(tuple(s.text for s in removed), tuple(s.text for s in added), share)


def sentences(text: str, *, drop_boilerplate: bool = True) -> list[Sentence]:
    """The sentences of `text` in order: cut at line breaks and sentence punctuation, without
    those that have no letter or digit, and without the boilerplate lines unless told to keep
    them (marked)."""
    out: list[Sentence] = []
    for line in text.splitlines():
        folded_line = fold(line)[0].strip()
        boilerplate = bool(folded_line) and is_boilerplate(folded_line)
        if not folded_line or (drop_boilerplate and boilerplate):
            continue
        for piece in split_line(line):
            folded = _fold_sentence(piece)
            key = _NOT_WORD.sub(lambda m: m.group(1) or "", folded)
            if key:
                out.append(Sentence(piece, folded, key, boilerplate))
    return out


def _fold_sentence(piece: str) -> str:
    """A sentence folded for comparing. Before fold: NFKC (so that full-width pinyin after a
    character is recognised and dropped as fold drops it) and, where there is Chinese,
    OpenCC's Traditional-to-Simplified conversion by phrase: fold converts character by
    character, which leaves 回覆/回复, 藉助/借助, 計畫/计划 apart (82 of 4,315 sentences of the
    Simplified corpus texts differ from their OpenCC Traditional version that way, 11 by
    phrase, where OpenCC chose another word in Traditional, and none with _VARIANTS and
    _CHARACTERS)."""
    text = unicodedata.normalize("NFKC", piece)
    if not _HAN.search(text):
        return fold(text)[0].strip()
    folded = fold(str(_t2s().convert(text)))[0].strip().translate(_CHARACTERS)
    for variant, simplified in _VARIANTS:
        folded = folded.replace(variant, simplified)
    return folded


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc  # noqa: PLC0415  (loads its dictionaries: only when first needed)

    return opencc.OpenCC("t2s")


def split_line(line: str) -> list[str]:
    """One line cut into sentences, each stripped; a line without an ending is one sentence."""
    pieces: list[str] = []
    start = 0
    for end in _BOUNDARY.finditer(line):
        mark = end.group()
        if mark.startswith(".") and not mark.startswith("..") and _abbreviation(line, end):
            continue
        pieces.append(line[start : end.end()])
        start = end.end()
    pieces.append(line[start:])
    return [p.strip() for p in pieces if p.strip()]


def _abbreviation(line: str, stop: re.Match[str]) -> bool:
    """The full stop closes "U.S.", "Mr.", "J." or "г." rather than a sentence, or the next
    word starts in lower case (a sentence would not)."""
    if line[stop.end() :].lstrip()[:1].islower():
        return True
    before = line[: stop.start()].split()
    word = before[-1].lstrip("\"'“‘«([") if before else ""
    return (
        (len(word) == 1 and word.isalpha())
        or bool(_INITIALISM.fullmatch(word))
        or word.casefold() in _ABBREVIATIONS
    )


def is_boilerplate(folded_line: str) -> bool:
    """A folded line that is only a date/time or counters, or is very short and says nothing
    a sentence would (no sentence punctuation but a trailing ellipsis: "Read more…")."""
    bare = _TRAILING_ELLIPSIS.sub("", folded_line)
    if len(bare) < SHORT and not _SENTENCE_END.search(bare):
        return True
    return (
        len(folded_line) <= _DATE_OR_COUNT_MAX
        and any(ch.isdigit() for ch in folded_line)
        and _DATE_OR_COUNT.fullmatch(folded_line) is not None
    )


def _changed(gone: list[Sentence], came: list[Sentence]) -> tuple[list[Sentence], list[Sentence]]:
    """Of a run of sentences replaced by another, those that hold the difference.

    The runs' keys are joined and their common beginning and end set aside: what differs
    lies between. A sentence cut in two next to a sentence edited ("It was big. Other
    words." for "It was big, other words.") is then not reported with it, and runs that
    join to the same string (only cut differently) differ nowhere.
    """
    old, new = "".join(s.key for s in gone), "".join(s.key for s in came)
    if old == new:
        return [], []
    head = 0
    for x, y in zip(old, new, strict=False):
        if x != y:
            break
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return _within(gone, head, len(old) - tail), _within(came, head, len(new) - tail)


def _within(part: list[Sentence], low: int, high: int) -> list[Sentence]:
    """The sentences whose keys overlap [low, high) of the run's joined keys. When that span
    is empty (words only added on the other side) the sentence they were added to: the one
    ending at `low` or holding it (the first when `low` is 0)."""
    out = []
    start = 0
    for sentence in part:
        end = start + len(sentence.key)
        if low < high:
            hit = start < high and low < end
        else:
            hit = start < low <= end or (low == 0 and start == 0)
        if hit:
            out.append(sentence)
        start = end
    return out


def _length(part: list[Sentence]) -> int:
    """Folded characters of the sentences that are not boilerplate."""
    return sum(len(s.folded) for s in part if not s.boilerplate)
