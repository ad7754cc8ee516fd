"""Keyword-in-context snippets: the original text around matches, matches marked **so**."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from monitor.profiles.normalize import CJK_RANGES

if TYPE_CHECKING:
    from monitor.profiles.evaluate import FoldedField, Occurrence

MARK = "**"  # Markdown bold: rendered in chat and e-mail, readable as plain text
RADIUS = 90  # characters of context on each side (a third of that for CJK text)
MAX_SNIPPETS = 3
_CJK = re.compile(f"[{CJK_RANGES}]")


def snippets(spans: Iterable[Occurrence], fields: dict[str, FoldedField]) -> list[str]:
    """Up to three snippets from the body (the headline when nothing matched there)."""
    spans = list(spans)
    where = "text" if any(s.field == "text" for s in spans) else "title"
    field = fields[where]
    if not field.original:
        return []
    marks = _merge(
        (field.origin[s.start], field.origin[s.end - 1] + 1) for s in spans if s.field == where
    )
    out: list[str] = []
    covered_to = -1
    for start, end in marks:
        if start < covered_to or len(out) == MAX_SNIPPETS:
            continue
        lo, hi = _window(field.original, start, end)
        out.append(_render(field.original, lo, hi, marks))
        covered_to = hi
    return out


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _window(text: str, start: int, end: int) -> tuple[int, int]:
    radius = RADIUS // 3 if _mostly_cjk(text[max(0, start - 20) : end + 20]) else RADIUS
    lo, hi = max(0, start - radius), min(len(text), end + radius)
    for _ in range(20):  # widen to the nearest space so no word is cut
        if lo <= 0 or text[lo - 1].isspace():
            break
        lo -= 1
    for _ in range(20):
        if hi >= len(text) or text[hi].isspace():
            break
        hi += 1
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
