"""`monitor hits`: stored hits as a table, JSON, JSON lines or CSV."""

from __future__ import annotations

import sys
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from monitor.archive.export import write_hits_csv
from monitor.cli.common import (
    DURATION_OR_DATE,
    ListFormat,
    engine,
    json_text,
    list_format_option,
    out,
    plain,
    print_json,
    settings,
)
from monitor.cli.common import since as parse_since
from monitor.config.secrets import redact_url
from monitor.models import Hit
from monitor.store.hits import query_hits


class Changed(StrEnum):
    """What `--changed` selects: the article's state after its last re-check."""

    edited = "edited"
    removed = "removed"


def hits(
    ctx: typer.Context,
    profile: Annotated[
        str | None, typer.Option(metavar="PROFILE", help="Only this profile.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            metavar=DURATION_OR_DATE,
            help="Only articles published since a duration ago (7d, 12h) or a date "
            "(an undated article: since it was fetched).",
        ),
    ] = None,
    stored_since: Annotated[
        str | None,
        typer.Option(
            metavar=DURATION_OR_DATE,
            help="Only hits stored since a duration ago (7d, 12h) or a date.",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(min=1, metavar="N", help="At most N hits (table default: 50; others: all)."),
    ] = None,
    changed: Annotated[
        Changed | None,
        typer.Option(
            metavar="edited|removed",
            help="Only hits whose article a re-check found edited (or removed) and that is so "
            "now (docs/evidence.md).",
        ),
    ] = None,
    fmt: Annotated[ListFormat, list_format_option("matched_terms and snippets")] = ListFormat.table,
) -> None:
    """Show stored hits, newest stored first: when each article was published, its URL, the
    profile and the terms it matched.

    \b
    Example: monitor hits --since 7d --format csv
    """
    published = parse_since(since)  # a usage mistake is told before the database is opened
    stored = parse_since(stored_since, "--stored-since")
    loaded = settings(ctx)
    if fmt is ListFormat.table and limit is None:
        limit = 50
    db = engine(loaded)
    try:
        found = query_hits(
            db,
            profile=profile,
            published_since=published,
            stored_since=stored,
            limit=limit,
            changed=changed.value if changed else None,
        )
    finally:
        db.dispose()
    if fmt is ListFormat.json:
        print_json([h.record() for h in found])
    elif fmt is ListFormat.jsonl:
        for h in found:
            sys.stdout.write(json_text(h.record()) + "\n")
    elif fmt is ListFormat.csv:
        write_hits_csv(sys.stdout, found)  # the read API's hits.csv writes the same
    else:
        _print_table(found)


def _print_table(found: list[Hit]) -> None:
    """Hits as a table: every text cell plain text, whoever wrote it, folded but never cut
    short; a URL's credentials as ****. When each hit was stored, and who gave its feedback
    when: JSON and CSV."""
    table = Table()
    table.add_column("published", no_wrap=True)
    for name in ("profile", "score", "title", "feed", "url", "terms", "feedback"):
        table.add_column(name, overflow="fold", justify="right" if name == "score" else "left")
    for h in found:
        table.add_row(
            _when(h.published_at),
            plain(h.profile),
            f"{h.score:g}",
            plain(h.title),
            plain(h.feed),  # a feed without name or title: its URL, redacted by the store
            plain(redact_url(h.url)),
            plain(", ".join(h.matched_terms)),
            _verdict(h),
        )
    out.print(table)
    out.print(f"{len(found)} hit(s)")


def _verdict(hit: Hit) -> Text | str:
    """ "relevant", "not relevant: <note>", or "-" without feedback."""
    if hit.feedback is None:
        return "-"
    note = hit.feedback.note
    return plain(hit.feedback.verdict + (f": {note}" if note else ""))


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "–"
