"""Keyword-in-context snippets: the original text around the reasons a query holds (see
reasons.py), best first, the terms that counted marked **so**."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from monitor.profiles.normalize import CJK_RANGES

if TYPE_CHECKING:
    from monitor.profiles.evaluate import FoldedField, Occurrence

MARK = "**"  # Markdown bold: rendered in chat and e-mail, readable as plain text
RADIUS = 90  # characters of context on each side (a third of that for CJK text)
MAX_SNIPPETS = 3
_CJK = re.compile(f"[{CJK_RANGES}]")


def snippets(
    reasons: Iterable[Sequence[Occurrence]],
    marked: Iterable[Occurrence],
    fields: dict[str, FoldedField],
) -> list[str]:
    """Up to three snippets, one around each of the best reasons not shown yet (`reasons`
    come best first), in that order: from the body, or the headline when no reason lies in
    the body. Each shows its whole reason (a NEAR's window: every part) with some context;
    every occurrence in `marked` (which holds those of the reasons) that falls inside a
    snippet is marked."""
    reasons = list(reasons)  # each in one field: a term's occurrence, or a NEAR's window
    if not reasons:
        return []
    where = "text"
    if reasons[0][0].field != "text" and all(reason[0].field != "text" for reason in reasons):
        where = "title"
    field = fields[where]
    text, origin = field.original, field.origin
    spans = {(origin[o.start], origin[o.end - 1] + 1) for o in marked if o.field == where}
    marks = _merge(spans)
    starts = [start for start, _ in marks] if len(marks) < len(spans) else []
    out: list[str] = []
    shown: list[tuple[int, int]] = []
    for reason in reasons:
        if reason[0].field != where:
            continue
        start, end = origin[reason[0].start], origin[reason[-1].end - 1] + 1
        if len(reason) > 1:  # a NEAR's parts come in any order
            start = min(origin[o.start] for o in reason)
            end = max(origin[o.end - 1] + 1 for o in reason)
        if starts:  # some marks overlap: widened to every mark it touches, so none is cut
            first = bisect_right(starts, start) - 1
            if first >= 0 and marks[first][1] > start:
                start = marks[first][0]
            end = max(end, marks[bisect_left(starts, end) - 1][1])
        for lo, hi in shown:
            if lo <= start and end <= hi:
                break  # a snippet already shows it
        else:
            lo, hi = _window(text, start, end, shown)
            out.append(_render(text, lo, hi, marks))
            shown.append((lo, hi))
            if len(out) == MAX_SNIPPETS:
                break
    return out


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _window(text: str, start: int, end: int, shown: list[tuple[int, int]]) -> tuple[int, int]:
    """Context around [start, end), whole words, not repeating what other snippets show."""
    radius = RADIUS // 3 if _mostly_cjk(text[max(0, start - 20) : end + 20]) else RADIUS
    radius = max(radius - (end - start) // 2, radius // 3)  # a long NEAR window: less context
    lo, hi = max(0, start - radius), min(len(text), end + radius)
    for _ in range(20):  # widen to the nearest space so no word is cut
        if lo <= 0 or text[lo - 1].isspace():
            break
        lo -= 1
    for _ in range(20):
        if hi >= len(text) or text[hi].isspace():
            break
        hi += 1
    for other_lo, other_hi in shown:
        if lo < other_hi <= start:
            lo = other_hi
        if end <= other_lo < hi:
            hi = other_lo
    return lo, hi


def _render(text: str, lo: int, hi: int, marks: list[tuple[int, int]]) -> str:
    pieces: list[str] = []
    cursor = lo
    for start, end in marks:
        if start < cursor or end > hi:
            continue
        pieces += [text[cursor:start], MARK, text[start:end], MARK]
        cursor = end
    pieces.append(text[cursor:hi])
    body = " ".join("".join(pieces).split())
    return ("…" if lo > 0 else "") + body + ("…" if hi < len(text) else "")


def _mostly_cjk(text: str) -> bool:
    return len(_CJK.findall(text)) * 2 > len(text)
