"""The running service: configuration loaded, stages opened, cycles scheduled by APScheduler."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from sqlmodel import Session

from monitor.alerts import routing
from monitor.alerts.channels import ALERTS_FILE, LOG_CHANNEL, AlertConfig, load_alerts, route
from monitor.alerts.deliver import Notifier
from monitor.alerts.outbox import DeliveryReport, Outbox, Sender
from monitor.alerts.schedules import debounce_window
from monitor.alerts.spikes import find_spikes
from monitor.alerts.templates import TEMPLATES_DIR, Templates
from monitor.errors import ConfigError
from monitor.feedlist import FEEDS_FILE, load_feeds
from monitor.health import next_poll_at, notices
from monitor.ingest.extract import Extractor, worker_count
from monitor.ingest.fetch import Fetcher
from monitor.logs import mask_secrets
from monitor.models import FeedSpec, Route
from monitor.pipeline import Extract, Fetch, PollReport, Stages, poll_feed
from monitor.profiles.concepts import CONCEPTS_FILE
from monitor.profiles.files import PROFILES_DIR, load_profiles
from monitor.profiles.matcher import Matcher
from monitor.profiles.profile import Profile
from monitor.settings import Settings
from monitor.store import feeds
from monitor.store.feeds import DueFeed, PollOutcome

log = logging.getLogger("monitor.service")

LEASE = timedelta(minutes=15)  # a crashed poll's feed becomes claimable again after this
DRAIN_SECONDS = 30.0  # how long a shutdown waits for the cycle in progress
SYSTEM_TAG = "system"  # channels with this tag (and untagged ones) get notices about the monitor


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Loaded:
    """The configuration files, read and validated."""

    feeds: list[FeedSpec]
    profiles: list[Profile]
    alerts: AlertConfig
    templates: Templates


def load_config(config_dir: Path) -> Loaded:
    """Read feeds.yaml, profiles/, concepts.yaml, alerts.yaml and templates/; ConfigError
    names the file and line. (monitor.yaml settings are read once at start-up.)"""
    profiles = load_profiles(config_dir)
    alerts = load_alerts(config_dir)
    for profile in profiles:
        if profile.alert == "digest" and profile.digest not in alerts.schedules:
            raise ConfigError(
                f"digest: no schedule named {profile.digest!r} in alerts.yaml "
                f"(defined: {', '.join(sorted(alerts.schedules))})",
                path=profile.path,
            )
    templates = Templates(config_dir / TEMPLATES_DIR)
    templates.check()
    return Loaded(load_feeds(config_dir), profiles, alerts, templates)


def config_signature(config_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """What the reloadable files look like on disk (name, size, mtime): cheap to compare."""
    paths = [config_dir / name for name in (FEEDS_FILE, ALERTS_FILE, CONCEPTS_FILE)]
    for folder in (config_dir / PROFILES_DIR, config_dir / TEMPLATES_DIR):
        if folder.is_dir():
            paths += sorted(folder.iterdir())
    out = []
    for path in paths:
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        out.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class CycleReport:
    feeds_polled: int = 0
    feeds_failed: int = 0
    entries_new: int = 0
    hits: int = 0
    alerts_created: int = 0
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    duration_ms: int = 0
    stages: dict[str, dict[str, float]] = field(default_factory=dict)  # StageTimes.as_dict()


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
        self.clock = clock
        self.started_at = clock()
        self._sender = sender or Notifier()
        self._delivery_lock = asyncio.Lock()
        self._signature = config_signature(config_dir)
        self._apply(load_config(config_dir))

    def _apply(self, loaded: Loaded) -> None:
        mask_secrets(loaded.alerts.secrets)
        self.loaded = loaded
        self.matcher = Matcher(loaded.profiles)
        channels = loaded.alerts.channels
        system = [key for key in route(channels, (SYSTEM_TAG,)) if key != LOG_CHANNEL]
        self.outbox = Outbox(
            engine=self.engine,
            config=loaded.alerts,
            sender=self._sender,
            templates=loaded.templates,
            settings=self.settings.alerts,
            clock=self.clock,
            started_at=self.started_at,
            system=system,
            digest_channels=routing.digest_channels(loaded.profiles, loaded.alerts),
        )

    def routes(self, now: datetime) -> dict[str, list[Route]]:
        """Where each profile's alerts go now (monitor.alerts.routing)."""
        return routing.routes(self.loaded.profiles, self.loaded.alerts, now)

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
        self, fetcher: Fetch, extractor: Extract, *, everything: bool = False
    ) -> CycleReport:
        """Poll every due feed (every enabled feed with `everything`), then deliver alerts."""
        started = time.monotonic()
        now = self.clock()
        await asyncio.to_thread(feeds.sync_feeds, self.engine, self.loaded.feeds, now)
        due = await asyncio.to_thread(
            feeds.claim_due, self.engine, now, everything=everything, lease=LEASE
        )
        in_flight = self.settings.fetch.concurrency + 2 * worker_count(self.settings.extract)
        stages = Stages(
            engine=self.engine,
            fetcher=fetcher,
            extractor=extractor,
            matcher=self.matcher,
            routes=self.routes(now),
            settings=self.settings,
            clock=self.clock,
            limit=asyncio.Semaphore(self.settings.fetch.concurrency),
            pages=asyncio.Semaphore(in_flight),
        )
        reports = await asyncio.gather(*(self._poll_safely(feed, stages) for feed in due))
        await stages.recorder.flush()
        await asyncio.to_thread(self.feed_notices)
        await asyncio.to_thread(self.spike_notices)
        with stages.times.stage("deliver"):
            delivery = await self.deliver()
        report = CycleReport(
            feeds_polled=len(reports),
            feeds_failed=sum(r.status == "error" for r in reports),
            entries_new=sum(r.entries_new for r in reports),
            hits=sum(r.hits for r in reports),
            alerts_created=sum(r.alerts for r in reports),
            delivery=delivery,
            duration_ms=int((time.monotonic() - started) * 1000),
            stages=stages.times.as_dict(),
        )
        log.info(
            "cycle feeds_polled=%d feeds_failed=%d entries_new=%d hits=%d alerts_created=%d "
            "alerts_sent=%d alerts_retrying=%d alerts_failed=%d duration_ms=%d",
            report.feeds_polled,
            report.feeds_failed,
            report.entries_new,
            report.hits,
            report.alerts_created,
            delivery.sent,
            delivery.retrying,
            delivery.failed,
            report.duration_ms,
        )
        return report

    async def _poll_safely(self, feed: DueFeed, stages: Stages) -> PollReport:
        """A bug met by one feed is logged and recorded against it; the cycle goes on."""
        try:
            return await poll_feed(feed, stages)
        except Exception as exc:
            log.exception("unexpected error polling %s", feed.label)
            error = f"internal error: {type(exc).__name__}: {exc}"
            now = self.clock()
            interval = feed.interval_seconds or self.settings.poll_interval
            outcome = PollOutcome("error", error, error_category="internal")
            next_poll = next_poll_at(
                now, interval, feed.consecutive_failures + 1, self.settings.health
            )
            await asyncio.to_thread(
                feeds.record_poll, self.engine, feed.id, outcome, now, next_poll
            )
            return PollReport(feed.label, "error", error=error, error_category="internal")

    def feed_notices(self) -> int:
        """Queue notices for the system channels about feeds failing, gone, recovered or
        silent; each notice and the record that it was made commit together."""
        now = self.clock()
        due = notices(feeds.feed_health(self.engine), self.settings.health, now)
        for notice in due:
            with Session(self.engine) as session:
                self.outbox.notify_system(
                    f"feed-{notice.kind}",
                    f"feed-{notice.kind}:{notice.feed_id}:{now.isoformat()}",
                    notice.title,
                    notice.body,
                    session=session,
                )
                feeds.mark_notice(self.engine, notice.feed_id, notice.kind, now, session=session)
                session.commit()
        return len(due)

    def spike_notices(self) -> int:
        """Queue a notice for each profile whose hits spiked (one per profile per window);
        how many notices were queued."""
        now = self.clock()
        queued = 0
        for spike in find_spikes(self.engine, now, self.settings.alerts):
            window, _ = debounce_window(now, self.settings.alerts.spike_window)
            queued += self.outbox.notify_system(
                "spike",
                f"spike:{spike.profile}:{window.isoformat(timespec='seconds')}",
                f"Spike in profile {spike.profile}: {spike.recent} hits",
                f"Profile {spike.profile} stored {spike.recent} hits since "
                f"{spike.window_start:%Y-%m-%d %H:%M} UTC, against {spike.baseline:.1f} per "
                "window on average before (alerts.spike_factor / spike_window / "
                "spike_baseline). Something is happening, or a feed or the profile changed.",
            )
        return queued

    async def deliver(self) -> DeliveryReport:
        """Deliver what is due; one delivery pass at a time, so nothing is sent twice."""
        async with self._delivery_lock:
            return await asyncio.to_thread(self.outbox.deliver)

    async def run_once(self, *, everything: bool = False) -> CycleReport:
        """Exactly one cycle with freshly opened fetcher and extraction workers."""
        async with Fetcher(self.settings.fetch) as fetcher, Extractor(self.settings.extract) as ex:
            return await self.cycle(fetcher, ex, everything=everything)

    async def run_forever(self) -> None:
        """Poll on schedule until SIGINT/SIGTERM; the cycle in progress is allowed to finish."""
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()

        def on_signal(signum: int) -> None:
            if stop.is_set():
                log.warning("second %s: exiting at once", signal.Signals(signum).name)
                os._exit(128 + signum)
            log.info("%s received: finishing the work in progress", signal.Signals(signum).name)
            stop.set()

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, on_signal, signum)
        running: set[asyncio.Task[object]] = set()

        def tracked(job: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
            async def run() -> None:
                task = asyncio.current_task()
                if task is None or stop.is_set():
                    return
                running.add(task)
                try:
                    await job()
                except Exception:
                    log.exception("scheduled job failed; it runs again at its next time")
                finally:
                    running.discard(task)

            return run

        async with Fetcher(self.settings.fetch) as fetcher, Extractor(self.settings.extract) as ex:

            async def tick() -> None:
                await asyncio.to_thread(self.reload)
                await self.cycle(fetcher, ex)

            tick_seconds = self.settings.tick
            scheduler = AsyncIOScheduler(
                event_loop=loop,
                job_defaults={
                    "coalesce": True,
                    "max_instances": 1,
                    # a tick delayed by a long cycle still runs once, instead of being skipped
                    "misfire_grace_time": int(tick_seconds * 10),
                },
            )
            scheduler.add_job(
                tracked(tick),
                IntervalTrigger(seconds=tick_seconds),
                id="poll",
                next_run_time=datetime.now(UTC),
            )
            scheduler.add_job(
                tracked(self.deliver), IntervalTrigger(seconds=tick_seconds), id="deliver"
            )
            for name, schedule in self.loaded.alerts.schedules.items():
                # a digest goes out at its fire time, not up to a tick later
                scheduler.add_job(tracked(self.deliver), schedule.trigger, id=f"digest-{name}")
            scheduler.start()
            log.info(
                "monitor running: %d feeds, %d profiles, %d channels; tick every %gs",
                len(self.loaded.feeds),
                len(self.loaded.profiles),
                len(self.loaded.alerts.channels),
                tick_seconds,
            )
            await stop.wait()
            scheduler.pause()
            if running:
                await asyncio.wait(running, timeout=DRAIN_SECONDS)
            scheduler.shutdown(wait=False)
        log.info("monitor stopped")
