"""Stored hits as CSV that a spreadsheet opens safely (OWASP, CSV injection): the one
implementation behind `monitor hits --format csv` and `/api/v1/hits.csv`, so that both write
the same columns, cell for cell."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from typing import TextIO

from monitor.models import Hit
from monitor.profiles.normalize import printable

CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet cell a formula
HIT_FIELDS = [field.name for field in fields(Hit)]  # the JSON keys, also when nothing matched
CSV_JOIN = " | "  # a CSV cell holding a list: matched_terms, snippets


def csv_cell(value: object) -> str:
    """One CSV cell, safe to open in a spreadsheet (OWASP, CSV injection): text without
    control characters (`printable`) and, when it begins with = + - @, tab or carriage return,
    prefixed with a single quote so that it is read as text, never as a formula. Finite
    numbers (a hit's score, ids) are the monitor's own and stay numbers, negative ones too: a
    spreadsheet reads -1.5 as a number, never as a formula. None is an empty cell."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return str(value)
    text = printable(str(value))
    return "'" + text if text.startswith(CSV_FORMULA_START) else text


def write_csv(
    stream: TextIO, fieldnames: Sequence[str], rows: Iterable[Mapping[str, object]]
) -> None:
    """A header and `rows` as CSV on `stream`, every cell through csv_cell and in double
    quotes (so a ; or a tab in a cell cannot start a new one in a spreadsheet splitting on
    it): the two halves of OWASP's advice. Every CSV the monitor writes goes through here."""
    writer = csv.writer(stream, quoting=csv.QUOTE_ALL)
    writer.writerow([csv_cell(name) for name in fieldnames])
    for row in rows:
        writer.writerow([csv_cell(row.get(name)) for name in fieldnames])


def hit_row(hit: Hit) -> dict[str, object]:
    """A hit's record (`Hit.record`) for CSV: its lists as one line of text, CSV_JOIN between
    the items; its feedback as "relevant" or "not relevant", the note after a colon."""
    row = {
        key: CSV_JOIN.join(map(str, value)) if isinstance(value, list) else value
        for key, value in hit.record().items()
    }
    verdict = hit.feedback
    row["feedback"] = verdict and verdict.verdict + (f": {verdict.note}" if verdict.note else "")
    return row


def write_hits_csv(stream: TextIO, hits: Iterable[Hit]) -> None:
    """Hits as CSV on `stream`: a header of HIT_FIELDS (also when there is no hit), then one
    row per hit in the order given."""
    write_csv(stream, HIT_FIELDS, map(hit_row, hits))
