"""`monitor run` and `monitor db …`: the service itself and database maintenance."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from sqlalchemy import Engine

from monitor.cli.common import (
    config_dir,
    duration,
    engine,
    human_size,
    iso,
    out,
    print_json,
    progress,
    settings,
)
from monitor.config.bounds import YEAR, Duration
from monitor.config.settings import evidence_folder
from monitor.logs import configure_logging
from monitor.store.evidenceprune import count_prunable_evidence, prune_evidence
from monitor.store.retention import count_prunable, database_size, prune, vacuum

if TYPE_CHECKING:
    from fastapi import FastAPI

    from monitor.alerts.outbox import DeliveryReport
    from monitor.runtime.service import Service

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
OLDER_THAN = Duration(1, 100 * YEAR)  # `db prune --older-than`: up to article_text's bound


def run(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Run one full cycle, then exit.")] = False,
    everything: Annotated[
        bool, typer.Option("--all", help="With --once: poll every enabled feed, due or not.")
    ] = False,
) -> None:
    """Run the service (or one cycle with --once); on a terminal the first cycle's polls
    are counted on a progress bar. The service also serves the web application, /healthz and
    /metrics on server.host:server.port (not with --once; server.enabled: false turns it
    off); beyond 127.0.0.1 that needs web.token (MONITOR_WEB_TOKEN).

    \b
    Example: monitor run --once --all
    """
    from monitor.runtime import lifecycle  # noqa: PLC0415  (keeps quick commands light)
    from monitor.runtime.service import Service  # noqa: PLC0415

    if everything and not once:
        raise typer.BadParameter("--all only applies together with --once", param_hint="--all")
    loaded = settings(ctx)
    serving = loaded.server.enabled and not once
    if serving:  # refused before anything is opened, let alone polled
        from monitor.web.access import check_binding  # noqa: PLC0415

        check_binding(loaded.server.host, loaded.web.token)
    configure_logging(loaded.log_level, stream=sys.stdout)  # the service's output is its log
    service = Service(config_dir(ctx), loaded, engine(loaded, create=True))
    # the bar goes with a log read on the terminal: piped (`| tee`) lines would run through it
    shown = progress if sys.stdout.isatty() else None
    if once:
        report = asyncio.run(lifecycle.run_once(service, everything=everything, progress=shown))
        _exit_on_database_outage(service)
        _exit_on_failed_delivery(report.delivery)
    else:
        web = _application(service) if serving else None
        asyncio.run(lifecycle.run_forever(service, app=web, progress=shown))


def _application(service: Service) -> FastAPI:
    """The web application served beside the service: one server, whose /healthz and
    /metrics answer for the service."""
    from monitor.web.access import loopback  # noqa: PLC0415  (only when serving)
    from monitor.web.app import create_app  # noqa: PLC0415

    return create_app(
        service.engine,
        service.config_dir,
        service.settings.web.token,
        health=service.health,
        metrics=service.metrics.render,
        reads_open=loopback(service.settings.server.host),
        fetch=service.settings.fetch,
        evidence_dir=service.keeping.folder,
    )


def _exit_on_database_outage(service: Service) -> None:
    """`run --once` met the database down (said in the log when it happened): exit 1 with
    one line; what it committed is kept and the next run takes up the rest."""
    outage = service.outage
    if not outage.down:
        return
    sys.stderr.write(
        f"database unavailable ({outage.where}): {outage.error}; what was committed is "
        "kept, run again when it is back\n"
    )
    raise typer.Exit(1)


def _exit_on_failed_delivery(delivery: DeliveryReport) -> None:
    """`run --once` tried each due delivery once: when some failed, say so in one line and
    exit 1 (they are kept and retried by the next run)."""
    if not (delivery.retrying or delivery.failed):
        return
    sys.stderr.write(
        f"delivery: {delivery.sent} sent, {delivery.retrying} failed and kept for a retry, "
        f"{delivery.failed} given up; `monitor alerts status` lists them\n"
    )
    raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create the database or bring its schema up to date.

    \b
    Example: monitor db upgrade
    """
    engine(settings(ctx), create=True)
    out.print("database schema is up to date")


@db_app.command("prune")
def db_prune(
    ctx: typer.Context,
    older_than: Annotated[
        str | None,
        typer.Option(
            metavar="DURATION",
            help="Delete the text of articles fetched longer ago than this (180d, 26w; "
            "default: retention.article_text).",
            show_default=False,
        ),
    ] = None,
    give_back: Annotated[
        bool, typer.Option("--vacuum", help="Then VACUUM to give the freed space back.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be pruned.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Delete old article text, signatures and story bands, and the evidence older than
    evidence.retention (when set); hits, snippets and alerts stay.

    \b
    Example: monitor db prune --older-than 180d --dry-run
    """
    if give_back and dry_run:
        raise typer.BadParameter("--vacuum cannot go with --dry-run", param_hint="--vacuum")
    loaded = settings(ctx)
    evidence_keep = _evidence_keep(loaded.evidence.retention)
    keep = _keep(older_than, loaded.retention.article_text, evidence_too=evidence_keep is not None)
    db, now = engine(loaded), datetime.now(UTC)
    try:
        record = _prune_record(db, now, keep, dry_run=dry_run, give_back=give_back)
        record["evidence"] = _evidence_record(
            db, evidence_folder(loaded, config_dir(ctx)), now, evidence_keep, dry_run=dry_run
        )
    finally:
        db.dispose()
    if as_json:
        print_json(record)
        return
    _print_pruned(record, now, keep, dry_run=dry_run)


def _print_pruned(
    record: dict[str, Any], now: datetime, keep: timedelta | None, *, dry_run: bool
) -> None:
    verb = "would prune" if dry_run else "pruned"
    if keep is not None:
        bands = record["story_bands"]
        out.print(
            f"{verb} {record['articles']} article(s) fetched before {now - keep:%Y-%m-%d %H:%M}"
            f" UTC: {human_size(record['text_bytes'])} of text"
            + ("" if bands is None else f", {bands} story band(s)")
        )
    kept = record["evidence"]
    if kept is not None:
        files = "" if dry_run else f" ({kept['files']} file(s), {human_size(kept['file_bytes'])})"
        out.print(f"{verb} the evidence of {kept['articles']} article(s){files}")
    before, after = human_size(record["size_before"]), human_size(record["size_after"])
    out.print(
        f"database: {before} (dry run: nothing changed)"
        if dry_run
        else f"database: {before} before, {after} after"
    )


def _evidence_record(
    db: Engine, folder: Path, now: datetime, keep: timedelta | None, *, dry_run: bool
) -> dict[str, Any] | None:
    """The evidence pruned (or counted) by evidence.retention; None when it is kept for good."""
    if keep is None:
        return None
    if dry_run:
        return {"articles": count_prunable_evidence(db, now, keep), "cutoff": iso(now - keep)}
    done = prune_evidence(db, folder, now, keep)
    return {
        "articles": done.articles,
        "versions": done.versions,
        "files": done.files,
        "file_bytes": done.file_bytes,
        "cutoff": iso(now - keep),
    }


def _evidence_keep(configured: float) -> timedelta | None:
    return timedelta(seconds=configured) if configured else None


def _prune_record(
    db: Engine, now: datetime, keep: timedelta | None, *, dry_run: bool, give_back: bool
) -> dict[str, Any]:
    """Prune (or count, with dry_run) and VACUUM if asked: what `db prune --json` prints."""
    before = database_size(db)
    if keep is None:  # the text is kept for good: the evidence alone is pruned
        return {
            "dry_run": dry_run,
            "cutoff": None,
            "articles": 0,
            "text_bytes": 0,
            "story_bands": None,
            "vacuumed": False,
            "size_before": before,
            "size_after": before,
        }
    if dry_run:
        articles, text_bytes = count_prunable(db, now, keep)
        bands, after = None, before
    else:
        report = prune(db, now, keep)
        articles, text_bytes, bands = report.articles, report.text_bytes, report.story_bands
        if give_back:
            vacuum(db)
        after = database_size(db)
    return {
        "dry_run": dry_run,
        "cutoff": iso(now - keep),
        "articles": articles,
        "text_bytes": text_bytes,
        "story_bands": bands,
        "vacuumed": give_back,
        "size_before": before,
        "size_after": after,
    }


def _keep(older_than: str | None, configured: float, *, evidence_too: bool) -> timedelta | None:
    """--older-than, else retention.article_text; refuses "forever" (0) unless there is
    evidence to prune (None: the text is kept), and bad durations."""
    if older_than is None:
        if not configured and evidence_too:
            return None
        if not configured:
            raise typer.BadParameter(
                "retention.article_text is 0 (keep forever): give --older-than to prune anyway",
                param_hint="--older-than",
            )
        return timedelta(seconds=configured)
    return timedelta(seconds=duration(older_than, "--older-than", OLDER_THAN))
