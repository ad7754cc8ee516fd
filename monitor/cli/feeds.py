"""`monitor feeds …`: list and edit feeds.yaml, OPML in and out."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from monitor.cli.common import (
    TABLE_OR_JSON,
    TableOrJson,
    config_dir,
    duration,
    engine,
    iso,
    out,
    plain,
    print_json,
    progress,
    settings,
)
from monitor.config.feedlist import add_feeds, load_feeds, remove_feed, scan_opml, write_opml
from monitor.config.secrets import redact_url, redact_urls
from monitor.config.settings import POLL_INTERVALS
from monitor.models import FeedSpec
from monitor.profiles.normalize import printable
from monitor.store.feeds import feed_health, feed_rows

feeds_app = typer.Typer(help="List and edit the feeds in feeds.yaml.", no_args_is_help=True)


@feeds_app.command("list")
def feeds_list(ctx: typer.Context) -> None:
    """List configured feeds with their last poll.

    \b
    Example: monitor feeds list
    """
    specs = load_feeds(config_dir(ctx))
    loaded = settings(ctx)
    rows = feed_rows(engine(loaded))
    table = Table("url", "name", "interval", "last poll", "status")
    for spec in specs:
        row = rows.get(spec.url)
        last = f"{row.last_polled_at:%Y-%m-%d %H:%M}" if row and row.last_polled_at else "never"
        status = (row.last_status or "") if row else ""
        if row and row.last_error:
            status += f": {redact_urls(row.last_error)}"
        interval = spec.interval or loaded.poll_interval
        table.add_row(
            _url(spec.url),
            plain(spec.name),
            f"{interval:g}s",
            last,
            plain(status if spec.enabled else "disabled"),
        )
    out.print(table)
    out.print(f"{len(specs)} feed(s)")


@feeds_app.command("add")
def feeds_add(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(metavar="URL", help="The feed's http(s) URL.")],
    name: Annotated[str | None, typer.Option(metavar="NAME", help="A display name.")] = None,
    interval: Annotated[
        str | None, typer.Option(metavar="DURATION", help="Poll interval: seconds, 15m, 2h.")
    ] = None,
) -> None:
    """Add a feed to feeds.yaml.

    \b
    Example: monitor feeds add https://www.cac.gov.cn/rss.xml --name CAC --interval 1h
    """
    seconds = None
    if interval is not None:
        seconds = int(duration(interval, "--interval", POLL_INTERVALS))
    try:
        added = add_feeds(config_dir(ctx), [FeedSpec(url=url, name=name, interval=seconds)])
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="URL") from None
    out.print(Text.assemble("added " if added else "already listed: ", _url(url)))


@feeds_app.command("remove")
def feeds_remove(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(metavar="URL", help="The feed's URL as listed.")],
) -> None:
    """Remove a feed from feeds.yaml (its stored articles and hits are kept).

    \b
    Example: monitor feeds remove https://www.cac.gov.cn/rss.xml
    """
    if not remove_feed(config_dir(ctx), url):
        out.print(Text.assemble("not listed: ", _url(url)))
        raise typer.Exit(1)
    out.print(Text.assemble("removed ", _url(url)))


@feeds_app.command("import-opml")
def feeds_import_opml(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The OPML file.")],
) -> None:
    """Add every feed of an OPML file to feeds.yaml. An outline that is not a feed URL is
    reported on stderr with its line; the others are added, and the command exits 1.

    \b
    Example: monitor feeds import-opml subscriptions.opml
    """
    found = scan_opml(file)
    with progress("checking feeds", len(found.feeds)) as advance:
        added = add_feeds(config_dir(ctx), _counted(found.feeds, advance))
    for bad in found.rejected:
        sys.stderr.write(printable(f"{file}:{bad.line}: {bad.reason}") + "\n")
    summary = f"{len(added)} feed(s) added, {len(found.feeds) - len(added)} already listed"
    out.print(summary + (f", {len(found.rejected)} rejected" if found.rejected else ""))
    if found.rejected:
        raise typer.Exit(1)


def _counted(specs: Iterable[FeedSpec], advance: Callable[[int], None]) -> Iterator[FeedSpec]:
    """The specs, counting each one as add_feeds takes it."""
    for spec in specs:
        yield spec
        advance(1)


@feeds_app.command("export-opml")
def feeds_export_opml(
    ctx: typer.Context,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="File (default: stdout)."),
    ] = None,
) -> None:
    """Write the feed list as OPML.

    \b
    Example: monitor feeds export-opml -o feeds.opml
    """
    document = write_opml(load_feeds(config_dir(ctx)))
    if output is None:
        sys.stdout.write(document)
    else:
        output.write_text(document, encoding="utf-8")


def _url(url: str) -> Text:
    """A feed URL for the console: its credentials as ****, as plain text."""
    return plain(redact_url(url))


def _short(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "never"


@feeds_app.command("health")
def feeds_health(
    ctx: typer.Context,
    fmt: Annotated[
        TableOrJson, typer.Option("--format", metavar=TABLE_OR_JSON, help="Output format.")
    ] = TableOrJson.table,
) -> None:
    """How every feed is doing: status, error category, failures, last success, next poll.

    \b
    Example: monitor feeds health --format json
    """
    health = feed_health(engine(settings(ctx)))
    if fmt is TableOrJson.json:
        records = [
            {
                "url": redact_url(h.url),
                "name": h.name,
                "status": h.status,
                "error_category": h.error_category,
                "error": h.error and redact_urls(h.error),
                "consecutive_failures": h.consecutive_failures,
                "last_polled_at": iso(h.last_polled_at),
                "last_success_at": iso(h.last_success_at),
                "last_entry_at": iso(h.last_entry_at),
                "next_poll_at": iso(h.next_poll_at),
            }
            for h in health
        ]
        print_json(records)
        return
    table = Table("feed", "status", "failures", "last success", "next poll", "error")
    for h in health:
        error = f"{h.error_category}: {redact_urls(h.error)}" if h.error else ""
        table.add_row(
            plain(h.name) if h.name else _url(h.url),
            h.status,
            str(h.consecutive_failures),
            _short(h.last_success_at),
            _short(h.next_poll_at),
            plain(error),
        )
    out.print(table)
    counts = Counter(h.status for h in health)
    out.print(", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no feeds")
