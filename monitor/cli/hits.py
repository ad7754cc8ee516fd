"""`monitor hits`: stored hits as a table, JSON, JSON lines or CSV."""

from __future__ import annotations

import sys
from dataclasses import asdict
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table

from monitor.cli.common import engine, iso, json_text, out, plain, print_json, settings, write_csv
from monitor.cli.common import since as parse_since
from monitor.models import Hit
from monitor.store.hits import query_hits


class Format(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


def _hit_record(hit: Hit) -> dict[str, Any]:
    record = asdict(hit)
    for key in ("published_at", "created_at"):
        record[key] = iso(record[key])
    return record


def hits(
    ctx: typer.Context,
    profile: Annotated[str | None, typer.Option(help="Only this profile.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Only hits since a duration ago (7d, 12h) or a date.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="At most N hits (table default: 50; others: all).")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
) -> None:
    """Show stored hits, newest first."""
    loaded = settings(ctx)
    if fmt is Format.table and limit is None:
        limit = 50
    found = query_hits(engine(loaded), profile=profile, since=parse_since(since), limit=limit)
    records = [_hit_record(h) for h in found]
    if fmt is Format.json:
        print_json(records)
    elif fmt is Format.jsonl:
        for record in records:
            sys.stdout.write(json_text(record) + "\n")
    elif fmt is Format.csv:
        fields = list(records[0]) if records else ["profile"]
        rows = ({**r, "matched_terms": "; ".join(r["matched_terms"])} for r in records)
        write_csv(sys.stdout, fields, rows)
    else:
        _print_table(found)


def _print_table(found: list[Hit]) -> None:
    """Hits as a table: every text cell plain text, whoever wrote it."""
    table = Table("created", "profile", "score", "title", "feed", "terms")
    for h in found:
        table.add_row(
            f"{h.created_at:%Y-%m-%d %H:%M}",
            plain(h.profile),
            f"{h.score:g}",
            plain(h.title),
            plain(h.feed),  # a feed without name or title: its URL, redacted by the store
            plain(", ".join(h.matched_terms)),
        )
    out.print(table)
    out.print(f"{len(found)} hit(s)")
