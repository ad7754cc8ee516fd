"""`monitor search`: stored articles a query in the profile language matches, newest first."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from monitor.archive.export import CSV_JOIN, write_csv
from monitor.archive.search import Found, compile_query, search
from monitor.cli.common import (
    DURATION_OR_DATE,
    ListFormat,
    config_dir,
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
from monitor.profiles.concepts import load_concepts
from monitor.profiles.querysyntax import QueryError
from monitor.store.search import ArticleFilter

FOUND_FIELDS = [
    "article_id",
    "url",
    "title",
    "feed",
    "published_at",
    "language",
    "snippets",
    "matched_terms",
]


def search_command(
    ctx: typer.Context,
    query: Annotated[
        str,
        typer.Argument(
            metavar="QUERY", help='A query in the profile language: "cyber sovereignty" AND 网信.'
        ),
    ],
    since: Annotated[
        str | None,
        typer.Option(
            metavar=DURATION_OR_DATE, help="Only articles published since (7d or a date)."
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            metavar=DURATION_OR_DATE, help="Only articles published before (7d or a date)."
        ),
    ] = None,
    feed: Annotated[
        str | None, typer.Option(metavar="FEED", help="Only this feed (its name, title or URL).")
    ] = None,
    language: Annotated[
        str | None,
        typer.Option(metavar="LANG", help="Only this language (zh also finds zh-Hant)."),
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=10000, metavar="N", help="At most N results.")
    ] = 50,
    fmt: Annotated[ListFormat, list_format_option("snippets and terms")] = ListFormat.table,
) -> None:
    """Search the stored articles' titles and text with a query in the profile language
    (phrases, AND/OR/NOT, NEAR, title:/text:, @concepts); Traditional and Simplified Chinese
    find each other. Results newest stored first, with snippets.

    \b
    Example: monitor search '"great firewall" OR 翻墙' --since 30d --format json
    """
    where = ArticleFilter(
        feed=feed,
        language=language,
        since=parse_since(since),
        until=parse_since(until, "--until"),
    )
    folder = config_dir(ctx)
    try:
        parsed = compile_query(query, load_concepts(folder))
    except QueryError as exc:
        raise typer.BadParameter(f"{exc.message}\n{exc.caret()}", param_hint="QUERY") from None
    page = search(engine(settings(ctx)), parsed, where, limit=limit)
    _print(page.items, fmt, scan=page.scan)
    if not page.complete:  # stderr: stdout is the result
        sys.stderr.write(
            f"search stopped after matching {page.examined} articles"
            + (" (a scan: the query has no term of 3+ characters the index can look up)"
               if page.scan else "")
            + "; older articles were not searched: narrow it with --since, --feed or a "
            "longer term\n"
        )  # fmt: skip


def _print(items: list[Found], fmt: ListFormat, *, scan: bool) -> None:
    if fmt is ListFormat.json:
        print_json([found.record() for found in items])
    elif fmt is ListFormat.jsonl:
        for found in items:
            sys.stdout.write(json_text(found.record()) + "\n")
    elif fmt is ListFormat.csv:
        rows = (
            {k: CSV_JOIN.join(v) if isinstance(v, list) else v for k, v in f.record().items()}
            for f in items
        )
        write_csv(sys.stdout, FOUND_FIELDS, rows)
    else:
        table = Table()
        table.add_column("published", no_wrap=True)
        for name in ("title", "feed", "url", "snippet"):
            table.add_column(name, overflow="fold")
        for found in items:
            table.add_row(
                f"{found.published_at:%Y-%m-%d %H:%M}" if found.published_at else "–",
                plain(found.title),
                plain(found.feed),
                plain(redact_url(found.url)),
                plain(found.snippets[0] if found.snippets else ""),
            )
        out.print(table)
        how = " (a scan: the query has no term the index can look up)" if scan else ""
        out.print(f"{len(items)} article(s){how}")
