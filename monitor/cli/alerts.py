"""`monitor alerts …`: the outbox as operators see it, requeueing failures, test messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from monitor.alerts.channels import load_channels
from monitor.alerts.compose import Notice
from monitor.alerts.deliver import Notifier
from monitor.alerts.render import TEMPLATES_DIR, Templates
from monitor.cli.common import (
    TABLE_OR_JSON,
    TableOrJson,
    config_dir,
    engine,
    iso,
    out,
    plain,
    print_json,
    settings,
)
from monitor.errors import DeliveryError
from monitor.store.backlog import (
    alert_counts,
    count_by_status,
    requeue_failed,
    undelivered,
    undelivered_messages,
)
from monitor.store.tables import MessageRow

alerts_app = typer.Typer(
    help="Alert delivery: status, retries, test messages.", no_args_is_help=True
)


@alerts_app.command("status")
def alerts_status(
    ctx: typer.Context,
    fmt: Annotated[
        TableOrJson, typer.Option("--format", metavar=TABLE_OR_JSON, help="Output format.")
    ] = TableOrJson.table,
) -> None:
    """Alerts and messages (digests, notices) per status; the pending and failed ones with
    their last error.

    \b
    Example: monitor alerts status --format json
    """
    db = engine(settings(ctx))
    counts = alert_counts(db)
    waiting = undelivered(db)
    other = count_by_status(db, MessageRow)
    held = undelivered_messages(db)
    if fmt is TableOrJson.json:
        records = [
            {
                "id": a.id,
                "channel": a.channel,
                "status": a.status,
                "attempts": a.attempts,
                "last_error": a.last_error,
                "next_attempt_at": iso(a.next_attempt_at),
                "profile": a.profile,
                "title": a.title,
                "url": a.url,
            }
            for a in waiting
        ]
        notes = [
            {
                "id": m.id,
                "channel": m.channel,
                "kind": m.kind,
                "status": m.status,
                "attempts": m.attempts,
                "last_error": m.last_error,
                "next_attempt_at": iso(m.next_attempt_at),
                "key": m.key,
            }
            for m in held
        ]
        print_json(
            {
                "counts": counts,
                "undelivered": records,
                "message_counts": other,
                "undelivered_messages": notes,
            }
        )
        return
    out.print(
        "alerts: " + (", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none")
    )
    out.print(
        "digests and notices: "
        + (", ".join(f"{n} {status}" for status, n in sorted(other.items())) or "none")
    )
    if waiting:
        table = Table("id", "channel", "status", "attempts", "next attempt", "profile", "error")
        for a in waiting:
            table.add_row(
                str(a.id),
                a.channel,
                a.status,
                str(a.attempts),
                f"{a.next_attempt_at:%Y-%m-%d %H:%M}" if a.status == "pending" else "",
                plain(a.profile),
                plain(a.last_error),
            )
        out.print(table)
    if held:
        table = Table("id", "channel", "kind", "status", "attempts", "next attempt", "error")
        for m in held:
            table.add_row(
                str(m.id),
                m.channel,
                m.kind,
                m.status,
                str(m.attempts),
                f"{m.next_attempt_at:%Y-%m-%d %H:%M}" if m.status == "pending" else "",
                plain(m.last_error),
            )
        out.print(table)


@alerts_app.command("retry")
def alerts_retry(
    ctx: typer.Context,
    channel: Annotated[
        str | None, typer.Option(metavar="KEY", help="Only this channel's failed alerts.")
    ] = None,
) -> None:
    """Requeue failed alerts, digests and notices: the next delivery pass sends them again.

    \b
    Example: monitor alerts retry --channel ops-mail
    """
    db = engine(settings(ctx))
    now = datetime.now(UTC)
    count = requeue_failed(db, now, channel)
    others = requeue_failed(db, now, channel, table=MessageRow)
    out.print(f"{count} failed alert(s) and {others} failed digest(s)/notice(s) requeued")


@alerts_app.command("test")
def alerts_test(
    ctx: typer.Context,
    tag: Annotated[
        str | None, typer.Option(metavar="TAG", help="Only channels that take this tag.")
    ] = None,
) -> None:
    """Send a test message through the channels; exit 1 when one of them failed.

    \b
    Example: monitor alerts test --tag system
    """
    channels = load_channels(config_dir(ctx))
    chosen = [c for c in channels if tag is None or c.takes((tag,))]
    if not chosen:
        out.print(
            "no channel configured"
            + (f" for tag {tag!r}" if tag else "")
            + ": alerts go to the log"
        )
        raise typer.Exit(1 if channels else 0)
    notifier = Notifier()
    templates = Templates(config_dir(ctx) / TEMPLATES_DIR)
    notice = Notice(
        "test message",
        "This is a test of the governance-news monitor's alert channel. Nothing matched.",
        "test",
    )
    failed = 0
    for channel in chosen:
        try:
            notifier.send(channel, templates.notice(notice, notifier.format_for(channel)))
        except DeliveryError as exc:
            failed += 1
            out.print(Text.assemble(("failed", "red"), " ", plain(f"{channel.key}: {exc}")))
        else:
            out.print(Text.assemble(("sent", "green"), "   ", plain(channel.key)))
    raise typer.Exit(1 if failed else 0)
