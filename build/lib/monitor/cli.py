"""The `monitor` command: a thin layer that reads options and calls the layers below."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from monitor.errors import ConfigError, MonitorError, StoreError
from monitor.feedlist import add_feeds, load_feeds, read_opml, remove_feed, write_opml
from monitor.logs import configure_logging
from monitor.models import FeedSpec
from monitor.profiles.files import load_profiles
from monitor.settings import Settings, load_settings, parse_duration
from monitor.store.engine import open_engine, upgrade
from monitor.store.feeds import feed_rows
from monitor.store.hits import HitView, query_hits

app = typer.Typer(
    help="Governance-news monitor: polls feeds, matches profiles, stores hits, sends alerts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
feeds_app = typer.Typer(help="List and edit the feeds in feeds.yaml.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
profiles_app = typer.Typer(help="Inspect keyword profiles.", no_args_is_help=True)
app.add_typer(feeds_app, name="feeds")
app.add_typer(db_app, name="db")
app.add_typer(profiles_app, name="profiles")

out = Console()


class Format(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Configuration folder (default: $MONITOR_CONFIG_DIR or ./config).",
            show_default=False,
        ),
    ] = None,
) -> None:
    ctx.obj = config or Path(os.environ.get("MONITOR_CONFIG_DIR") or "config")


def _config_dir(ctx: typer.Context) -> Path:
    path: Path = ctx.find_root().obj
    if not path.is_dir():
        raise ConfigError(
            "configuration folder not found (use --config DIR or MONITOR_CONFIG_DIR)", path=path
        )
    return path


def _settings(ctx: typer.Context) -> Settings:
    settings = load_settings(_config_dir(ctx))
    configure_logging(settings.log_level)
    return settings


def _engine(settings: Settings) -> Engine:
    engine = open_engine(settings.database_url)
    upgrade(engine)
    return engine


@app.command()
def run(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Run one full cycle, then exit.")] = False,
    everything: Annotated[
        bool, typer.Option("--all", help="With --once: poll every enabled feed, due or not.")
    ] = False,
) -> None:
    """Run the service (or one cycle with --once)."""
    from monitor.service import Service  # noqa: PLC0415  (keeps quick commands light)

    if everything and not once:
        raise typer.BadParameter("--all only applies together with --once", param_hint="--all")
    settings = _settings(ctx)
    service = Service(_config_dir(ctx), settings, _engine(settings))
    if once:
        asyncio.run(service.run_once(everything=everything))
    else:
        asyncio.run(service.run_forever())


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.now(UTC) - timedelta(seconds=float(parse_duration(value)))
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r}: expected a duration like 7d or 12h, or a date like 2026-11-01",
            param_hint="--since",
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _hit_record(hit: HitView) -> dict[str, Any]:
    record = asdict(hit)
    for key in ("published_at", "created_at"):
        record[key] = record[key].isoformat() if record[key] else None
    return record


@app.command()
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
    settings = _settings(ctx)
    if fmt is Format.table and limit is None:
        limit = 50
    found = query_hits(_engine(settings), profile=profile, since=_since(since), limit=limit)
    records = [_hit_record(h) for h in found]
    if fmt is Format.json:
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=2) + "\n")
    elif fmt is Format.jsonl:
        for record in records:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif fmt is Format.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(records[0]) if records else ["profile"])
        writer.writeheader()
        for record in records:
            writer.writerow({**record, "matched_terms": "; ".join(record["matched_terms"])})
        sys.stdout.write(buffer.getvalue())
    else:
        table = Table("created", "profile", "score", "title", "feed", "terms")
        for h in found:
            table.add_row(
                f"{h.created_at:%Y-%m-%d %H:%M}",
                h.profile,
                f"{h.score:g}",
                h.title,
                h.feed,
                ", ".join(h.matched_terms),
            )
        out.print(table)
        out.print(f"{len(found)} hit(s)")


@feeds_app.command("list")
def feeds_list(ctx: typer.Context) -> None:
    """List configured feeds with their last poll."""
    specs = load_feeds(_config_dir(ctx))
    settings = _settings(ctx)
    rows = feed_rows(_engine(settings))
    table = Table("url", "name", "interval", "last poll", "status")
    for spec in specs:
        row = rows.get(spec.url)
        last = f"{row.last_polled_at:%Y-%m-%d %H:%M}" if row and row.last_polled_at else "never"
        status = (row.last_status or "") if row else ""
        if row and row.last_error:
            status += f": {row.last_error}"
        interval = spec.interval or settings.poll_interval
        name = spec.name or ""
        table.add_row(
            spec.url, name, f"{interval:g}s", last, status if spec.enabled else "disabled"
        )
    out.print(table)
    out.print(f"{len(specs)} feed(s)")


@feeds_app.command("add")
def feeds_add(
    ctx: typer.Context,
    url: str,
    name: Annotated[str | None, typer.Option(help="A display name.")] = None,
    interval: Annotated[str | None, typer.Option(help="Poll interval: seconds, 15m, 2h.")] = None,
) -> None:
    """Add a feed to feeds.yaml."""
    seconds = None
    if interval is not None:
        try:
            seconds = int(parse_duration(interval))
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--interval") from None
        if seconds < 60:
            raise typer.BadParameter(
                "intervals below 60 s are not accepted", param_hint="--interval"
            )
    try:
        added = add_feeds(_config_dir(ctx), [FeedSpec(url=url, name=name, interval=seconds)])
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="URL") from None
    out.print(f"added {url}" if added else f"already listed: {url}")


@feeds_app.command("remove")
def feeds_remove(ctx: typer.Context, url: str) -> None:
    """Remove a feed from feeds.yaml (its stored articles and hits are kept)."""
    if not remove_feed(_config_dir(ctx), url):
        out.print(f"not listed: {url}")
        raise typer.Exit(1)
    out.print(f"removed {url}")


@feeds_app.command("import-opml")
def feeds_import_opml(ctx: typer.Context, file: Path) -> None:
    """Add every feed of an OPML file to feeds.yaml."""
    specs = read_opml(file)
    added = add_feeds(_config_dir(ctx), specs)
    out.print(f"{len(added)} feed(s) added, {len(specs) - len(added)} already listed")


@feeds_app.command("export-opml")
def feeds_export_opml(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default: stdout).")
    ] = None,
) -> None:
    """Write the feed list as OPML."""
    document = write_opml(load_feeds(_config_dir(ctx)))
    if output is None:
        sys.stdout.write(document)
    else:
        output.write_text(document, encoding="utf-8")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create the database or bring its schema up to date."""
    settings = _settings(ctx)
    _engine(settings)
    out.print("database schema is up to date")


@profiles_app.command("list")
def profiles_list(ctx: typer.Context) -> None:
    """List profiles with their term counts (validates every profile file)."""
    table = Table("name", "enabled", "tags", "any", "all", "none", "description")
    for p in load_profiles(_config_dir(ctx)):
        table.add_row(
            p.name,
            "yes" if p.enabled else "no",
            ", ".join(p.tags),
            str(len(p.any_terms)),
            str(len(p.all_terms)),
            str(len(p.none_terms)),
            p.description,
        )
    out.print(table)


def main() -> None:
    """Console entry point: user mistakes exit 2 with a message, never a traceback."""
    try:
        app()
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        sys.exit(2)
    except StoreError as exc:
        sys.stderr.write(f"database error: {exc}\n")
        sys.exit(1)
    except MonitorError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(1)
