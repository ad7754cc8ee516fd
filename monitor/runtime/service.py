"""One monitor instance: its configuration (reloaded when the files change), its cycles
(polls, notices, delivery), and what it records for /healthz, /metrics and `monitor status`.
The process around it (signals, jobs, the HTTP server) is monitor.runtime.lifecycle, which
runs it: `lifecycle.run_once(service)` and `lifecycle.run_forever(service)`."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from monitor.alerts import routing
from monitor.alerts.channels import LOG_CHANNEL, route
from monitor.alerts.deliver import Notifier
from monitor.alerts.feedbacklinks import feedback_links
from monitor.alerts.outbox import DeliveryReport, Outbox
from monitor.alerts.ports import Sender
from monitor.config.secrets import url_secrets
from monitor.config.settings import Settings, evidence_folder
from monitor.errors import ConfigError
from monitor.evidence.recheck import Rechecked
from monitor.ingest.pool import worker_count
from monitor.logs import mask_secrets
from monitor.models import Route
from monitor.pipeline.context import PollContext
from monitor.pipeline.cycle import CycleWatch, Tally, poll_due
from monitor.pipeline.ports import Fetch, WorkerJobs
from monitor.profiles.matcher import Matcher
from monitor.runtime import housekeeping
from monitor.runtime.configset import Loaded, config_signature, load_config
from monitor.runtime.cyclereport import CycleReport, delivered, log_cycle, summary
from monitor.runtime.metrics import Metrics
from monitor.runtime.outage import ExtractorOutage, Outage
from monitor.runtime.rechecks import notice_channels, run_rechecks
from monitor.runtime.takeover import log_taken_over, silent_after, skipped_lines
from monitor.store import claims, faults, feeds, instances, retention, sitekeys
from monitor.store.evidence import Keeping
from monitor.store.gateway import Database

log = logging.getLogger("monitor.service")

INSTANCE_GONE = timedelta(days=7)  # instance rows silent this long are forgotten
SYSTEM_TAG = "system"  # channels with this tag (and untagged ones) get notices about the monitor


def utc_now() -> datetime:
    return datetime.now(UTC)


class Service:
    """One monitor instance over one database and one configuration folder."""

    def __init__(
        self,
        config_dir: Path,
        settings: Settings,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = utc_now,
        sender: Sender | None = None,
    ) -> None:
        self.config_dir = config_dir
        self.settings = settings
        self.engine = engine
        recheck = settings.evidence.recheck
        self.keeping = Keeping(
            evidence_folder(settings, config_dir), recheck[0] if recheck else None
        )
        self.db = Database(engine, keeping=self.keeping)
        self.clock = clock
        self.started_at = clock()
        self._sender = sender or Notifier()
        self._delivery_lock = asyncio.Lock()
        self._last_sent: dict[str, float] = {}  # Outbox.last_sent, kept across reloads
        self._links = feedback_links(settings, lambda: sitekeys.site_key(engine, "feedback"), clock)
        self.instance_id = uuid.uuid4().hex
        self.metrics = Metrics(engine)
        self.outage = Outage(faults.where(engine), clock)  # the database's
        self.extractor = ExtractorOutage(clock)
        self.stopping = asyncio.Event()  # set by a signal: claim no more work
        self.stop_requested_at: float | None = None  # time.monotonic() of that signal
        self.last_cycle_end: datetime | None = None
        self.cycles = 0
        self._registered = False
        self._signature = config_signature(config_dir)
        self._apply(load_config(config_dir))

    def _apply(self, loaded: Loaded) -> None:
        feed_secrets = (secret for spec in loaded.feeds for secret in url_secrets(spec.url))
        mask_secrets([*loaded.alerts.secrets, *feed_secrets])  # every log line, whoever writes it
        self.loaded = loaded
        for profile in loaded.profiles:  # a lowercase or/and/not: searched as a word
            for warning in profile.warnings:
                log.warning("profile %s: %s", profile.name, warning)
        self.matcher = Matcher(loaded.profiles)
        channels = loaded.alerts.channels
        system = [key for key in route(channels, (SYSTEM_TAG,)) if key != LOG_CHANNEL]
        self.outbox = Outbox(
            store=self.db,
            config=loaded.alerts,
            sender=self._sender,
            templates=loaded.templates,
            settings=self.settings.alerts,
            clock=self.clock,
            started_at=self.started_at,
            system=system,
            digest_channels=routing.digest_channels(loaded.profiles, loaded.alerts),
            lease=timedelta(seconds=self.settings.lease),
            stopping=self.stopping.is_set,  # a shutdown gives unsent claims back at once
            last_sent=self._last_sent,
            links=self._links,
        )

    def routes(self, now: datetime) -> dict[str, list[Route]]:
        """Where each profile's alerts go now (monitor.alerts.routing)."""
        return routing.routes(self.loaded.profiles, self.loaded.alerts, now)

    async def recheck(
        self, fetcher: Fetch, pool: WorkerJobs, everything: bool = False
    ) -> Rechecked:
        """Look again at the hit articles due (monitor.runtime.rechecks)."""
        channels = notice_channels(self.loaded.profiles, self.routes(self.clock()))
        return await run_rechecks(
            self.engine,
            self.keeping,
            self.settings,
            self.db.holder,
            fetcher,
            pool,
            channels,
            self.clock,
            everything=everything,
        )

    def reload(self) -> bool:
        """Re-read the configuration files if any changed on disk; True when applied.

        An invalid edit is logged and sent to the channels that take system notices; the
        previous configuration stays active until the files are fixed.
        """
        signature = config_signature(self.config_dir)
        if signature == self._signature:
            return False
        self._signature = signature
        try:
            loaded = load_config(self.config_dir)
        except ConfigError as exc:
            self._notify_system(
                "Configuration not reloaded",
                f"{exc}\n\nThe previous configuration stays active until the file is fixed.",
            )
            return False
        self._apply(loaded)
        log.info(
            "configuration reloaded: %d feeds, %d profiles (%d terms), %d channels",
            len(loaded.feeds),
            len(loaded.profiles),
            self.matcher.term_count,
            len(loaded.alerts.channels),
        )
        return True

    def _notify_system(self, title: str, body: str) -> None:
        """A notice about the configuration, through the outbox to the system channels."""
        now = self.clock()
        self.outbox.notify_system("config", f"config:{now.isoformat()}", title, body)

    async def cycle(
        self,
        fetcher: Fetch,
        pool: WorkerJobs,
        *,
        everything: bool = False,
        watch: CycleWatch | None = None,
    ) -> CycleReport:
        """Poll every due feed (every enabled feed with `everything`), then deliver alerts;
        `watch`, if given, hears how many feeds are due and each poll as it ends.

        Due feeds are claimed a few dozen at a time as their polls start, so instances sharing
        a database share them; see monitor.pipeline.cycle.poll_due for what a stop or a
        cancellation does."""
        started = time.monotonic()
        now = self.clock()
        in_flight = self.settings.fetch.concurrency + 2 * worker_count(self.settings.extract)
        ctx = PollContext(
            store=self.db,
            fetcher=fetcher,
            pool=pool,
            matcher=self.matcher,
            routes=self.routes(now),
            settings=self.settings,
            clock=self.clock,
            limit=asyncio.Semaphore(self.settings.fetch.concurrency),
            pages=asyncio.Semaphore(in_flight),
        )
        tally = Tally(watch)  # the polls that ended, even if the cycle does not
        delivery = DeliveryReport()
        held: list[claims.Held] = []
        try:
            await asyncio.to_thread(feeds.sync_feeds, self.engine, self.loaded.feeds, now)
            await asyncio.to_thread(self.take_over)
            held = await asyncio.to_thread(
                claims.held_elsewhere, self.engine, now, self.db.holder, everything=everything
            )
            if watch is not None:
                due = await asyncio.to_thread(
                    feeds.count_due, self.engine, now, everything=everything
                )
                watch.due(due)
            await poll_due(ctx, everything=everything, stopping=self.stopping, watch=tally)
            if ctx.database_fault is not None:
                raise ctx.database_fault
            await asyncio.to_thread(
                self.extractor.cycle_ended, ctx.extract_problem, ctx.pages_extracted, self.outbox
            )
            with ctx.times.stage("recheck"):  # evidence: hit articles looked at again
                await self.recheck(fetcher, pool)
            await asyncio.to_thread(self.feed_notices)
            await asyncio.to_thread(self.spike_notices)
            with ctx.times.stage("deliver"):
                delivery = await self.deliver()
        except Exception as exc:
            if not self.outage.fault(exc):
                raise
        reports = tally.reports
        # a poll whose result could not be written failed, whatever its own line said
        failed = {r.feed for r in reports if r.status == "error"}
        failed |= {record.result.feed for record in ctx.recorder.lost}
        report = CycleReport(
            feeds_polled=len(reports),
            feeds_failed=len(failed),
            entries_new=sum(r.entries_new for r in reports),
            hits=sum(r.hits for r in reports),
            alerts_created=sum(r.alerts for r in reports),
            delivery=delivery,
            duration_ms=int((time.monotonic() - started) * 1000),
            stages=ctx.times.as_dict(),
            feeds_skipped=sum(h.feeds for h in held),
            skipped=tuple(skipped_lines(held, now, silent_after(self.settings.tick))),
        )
        log_cycle(report, database_down=self.outage.down)
        await self._cycle_done(report)
        return report

    async def _cycle_done(self, report: CycleReport) -> None:
        """Remember the cycle for /healthz, /metrics and `monitor status`."""
        ended = self.clock()
        self.last_cycle_end = ended
        self.cycles += 1
        self.metrics.record_cycle(
            seconds=report.duration_ms / 1000,
            ended_at=ended.timestamp(),
            stages=report.stages,
            polled=report.feeds_polled,
            failed=report.feeds_failed,
            entries_new=report.entries_new,
            hits=report.hits,
            delivered=delivered(report),
        )
        if self._registered and not self.outage.down:
            await asyncio.to_thread(
                instances.record_cycle, self.engine, self.instance_id, ended, summary(report)
            )

    def feed_notices(self) -> int:
        """Notices of feeds failing, gone, recovered or silent (runtime.housekeeping)."""
        return housekeeping.feed_notices(self.engine, self.outbox, self.settings, self.clock())

    def spike_notices(self) -> int:
        """Notices of profiles whose hits spiked (runtime.housekeeping)."""
        return housekeeping.spike_notices(self.db, self.outbox, self.settings, self.clock())

    async def deliver(self) -> DeliveryReport:
        """Deliver what is due (a silent instance's claims taken over first); one delivery
        pass at a time, so nothing is sent twice."""
        async with self._delivery_lock:
            await asyncio.to_thread(self.take_over)
            return await asyncio.to_thread(self.outbox.deliver)

    def take_over(self) -> None:
        """Void the claims of the instances silent for longer than takeover.silent_after (or
        stopped): their feeds and deliveries are this instance's, or another's, to claim."""
        now = self.clock()
        silent = silent_after(self.settings.tick)
        lease = timedelta(seconds=self.settings.lease)
        taken = claims.take_over(self.engine, now, silent, self.db.holder, lease=lease)
        log_taken_over(taken, now)

    def release_stale_claims(self) -> None:
        """On a SQLite file this instance holds the only lock: every claim found was left by
        an instance that died holding it (kill -9, power loss); release them all now."""
        found_feeds, found_deliveries = claims.release_all(self.engine, self.clock())
        if found_feeds or found_deliveries:
            log.warning(
                "released %d feeds and %d deliveries left claimed by an instance that ended "
                "without releasing them",
                found_feeds,
                found_deliveries,
            )

    def beat(self) -> None:
        """This instance's heartbeat (monitor.runtime.takeover.Heartbeat calls it)."""
        if self._registered:
            instances.heartbeat(self.engine, self.instance_id, self.clock())

    def health(self) -> tuple[bool, dict[str, Any]]:
        """/healthz: healthy while this instance's last cycle ended (or, before the first,
        it started) less than server.stale_after ago, and the database is reachable."""
        now = self.clock()
        since = self.last_cycle_end or self.started_at
        age = (now - since).total_seconds()
        fresh = age <= self.settings.server.stale_after
        healthy = fresh and not self.outage.down
        status = "database unavailable" if self.outage.down else "ok" if fresh else "stale"
        return healthy, {
            "status": status,
            "database_error": self.outage.error,
            "instance": self.instance_id,
            "started_at": self.started_at.isoformat(),
            "cycles": self.cycles,
            "last_cycle_end": self.last_cycle_end.isoformat() if self.last_cycle_end else None,
            "last_cycle_age_seconds": round(age, 1) if self.last_cycle_end else None,
            "stale_after_seconds": self.settings.server.stale_after,
        }

    def register(self) -> None:
        self.instance_id = uuid.uuid4().hex  # each run of this Service is an instance of its own
        instances.register(
            self.engine,
            instance_id=self.instance_id,
            host=socket.gethostname(),
            pid=os.getpid(),
            version=_version(),
            now=self.clock(),
        )
        self.db.holder = self.instance_id  # recorded with each claim
        self._registered = True
        instances.forget(self.engine, self.clock() - INSTANCE_GONE)  # run --once, from cron

    def unregister(self) -> None:
        """Mark the instance stopped; with the database down it stays "alive" in the table
        (shown as silent, then forgotten) and the stop goes on."""
        if self._registered:
            self._registered = False
            try:
                instances.stop(self.engine, self.instance_id, self.clock())
            except Exception as exc:
                if not self.outage.fault(exc):
                    raise

    def self_check(self) -> None:
        """The health job: a warning while this instance's cycles are stale, and old rows of
        instances long gone forgotten (the heartbeat has a thread of its own: beat)."""
        now = self.clock()

        def write() -> None:  # the heartbeat has a thread of its own (takeover.Heartbeat)
            instances.forget(self.engine, now - INSTANCE_GONE)

        self.outage.probe(write, self.outbox)
        healthy, state = self.health()
        if not healthy and not self.outage.down:  # down: said when it began
            log.warning(
                "no cycle has ended for %ss (server.stale_after %gs): polling is stuck or "
                "too slow for the feeds",
                state["last_cycle_age_seconds"] or round((now - self.started_at).total_seconds()),
                self.settings.server.stale_after,
            )

    def prune(self) -> retention.PruneReport | None:
        """The retention job (runtime.housekeeping): old article text and evidence."""
        return housekeeping.prune(self.engine, self.settings, self.keeping.folder, self.clock())


def _version() -> str:
    try:
        return metadata.version("governance-news-monitor")
    except metadata.PackageNotFoundError:
        return "unknown"
