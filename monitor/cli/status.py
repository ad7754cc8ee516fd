"""`monitor status`: the service as its operator sees it, read from the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from monitor.cli.common import (
    TABLE_OR_JSON,
    TableOrJson,
    engine,
    human_size,
    iso,
    out,
    print_json,
    settings,
)
from monitor.runtime.takeover import silent_after
from monitor.store import instances, retention, stats
from monitor.store.instances import InstanceInfo

_CYCLE_FIGURES = (
    "duration_ms",
    "feeds_polled",
    "feeds_failed",
    "entries_new",
    "hits",
    "alerts_sent",
    "alerts_failed",
)


def status(
    ctx: typer.Context,
    fmt: Annotated[
        TableOrJson, typer.Option("--format", metavar=TABLE_OR_JSON, help="Output format.")
    ] = TableOrJson.table,
) -> None:
    """Instances alive, the last cycle, failing feeds, the outbox backlog, the database size.

    \b
    Example: monitor status --format json
    """
    loaded = settings(ctx)
    db = engine(loaded)
    now = datetime.now(UTC)
    silence = silent_after(loaded.tick)  # alive until its claims would be taken over
    try:
        rows = instances.instances(db)
        last = instances.last_cycle(db)
        found = stats.counts(db)
        size = retention.database_size(db)
    finally:
        db.dispose()
    record = {
        "instances": [_instance(info, now, silence) for info in rows],
        "alive": sum(instances.is_alive(info, now, silence) for info in rows),
        "last_cycle": _cycle(last, now),
        "feeds": found.feeds,
        "failing_feeds": found.failing_feeds,
        "outbox_backlog": found.backlog,
        "alerts": found.alerts,
        "messages": found.messages,
        "database": {
            "dialect": db.dialect.name,
            "size_bytes": size,
        },
    }
    if fmt is TableOrJson.json:
        print_json(record)
        return
    _print(record)


def _instance(info: InstanceInfo, now: datetime, silence: timedelta) -> dict[str, Any]:
    if info.stopped_at is not None:
        state = "stopped"
    elif instances.is_alive(info, now, silence):
        state = "alive"
    else:
        state = "silent"  # killed, or its machine lost: its claims are taken over
    return {
        "id": info.id,
        "host": info.host,
        "pid": info.pid,
        "version": info.version,
        "state": state,
        "started_at": iso(info.started_at),
        "heartbeat_at": iso(info.heartbeat_at),
        "stopped_at": iso(info.stopped_at),
        "last_cycle_at": iso(info.last_cycle_at),
    }


def _cycle(info: InstanceInfo | None, now: datetime) -> dict[str, Any] | None:
    if info is None or info.last_cycle_at is None:
        return None
    return {
        "ended_at": iso(info.last_cycle_at),
        "age_seconds": round((now - info.last_cycle_at).total_seconds(), 1),
        "host": info.host,
        "pid": info.pid,
        **(info.last_cycle or {}),
    }


def _print(record: dict[str, Any]) -> None:
    running = [item for item in record["instances"] if item["state"] != "stopped"]
    stopped = len(record["instances"]) - len(running)
    title = f"Instances: {record['alive']} alive" + (f", {stopped} stopped" if stopped else "")
    table = Table(title=title, title_justify="left")
    for column in ("host", "pid", "state", "started", "last heartbeat", "last cycle"):
        table.add_column(column)
    for item in running:
        table.add_row(
            escape(item["host"]),
            str(item["pid"]),
            item["state"],
            _short(item["started_at"]),
            _short(item["heartbeat_at"]),
            _short(item["last_cycle_at"]),
        )
    out.print(table if running else title)
    cycle = record["last_cycle"]
    if cycle is None:
        out.print("last cycle: none yet")
    else:
        n = {key: cycle.get(key, 0) for key in _CYCLE_FIGURES}
        out.print(
            f"last cycle: ended {_short(cycle['ended_at'])} UTC ({_ago(cycle['age_seconds'])}) on "
            f"{escape(cycle['host'])} pid {cycle['pid']}, {n['duration_ms'] / 1000:.1f} s: "
            f"{n['feeds_polled']} feeds polled ({n['feeds_failed']} failed), "
            f"{n['entries_new']} new entries, {n['hits']} hits, "
            f"alerts {n['alerts_sent']} sent / {n['alerts_failed']} failed"
        )
    feeds = ", ".join(f"{n} {status}" for status, n in sorted(record["feeds"].items()))
    out.print(f"feeds: {feeds or 'none'}; failing: {record['failing_feeds']}")
    out.print(
        f"outbox backlog: {record['outbox_backlog']} (alerts pending "
        f"{record['alerts'].get('pending', 0)}, queued for digests "
        f"{record['alerts'].get('queued', 0)}, failed {record['alerts'].get('failed', 0)}; "
        f"messages pending {record['messages'].get('pending', 0)})"
    )
    database = record["database"]
    out.print(f"database: {database['dialect']}, {human_size(database['size_bytes'])}")


def _short(moment: str | None) -> str:
    """An ISO time as "2026-12-03 10:41:12" (UTC), for the table."""
    return moment[:19].replace("T", " ") if moment else "–"


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"
