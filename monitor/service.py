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

from monitor.alerts.channels import ALERTS_FILE, load_channels, route
from monitor.alerts.compose import Message
from monitor.alerts.deliver import Notifier
from monitor.alerts.outbox import DeliveryReport, deliver_pending
from monitor.errors import ConfigError, DeliveryError
from monitor.feedlist import FEEDS_FILE, load_feeds
from monitor.health import next_poll_at, notices
from monitor.ingest.extract import Extractor
from monitor.ingest.fetch import Fetcher
from monitor.models import ChannelSpec, FeedSpec
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
    channels: list[ChannelSpec]


def load_config(config_dir: Path) -> Loaded:
    """Read feeds.yaml, profiles/, concepts.yaml and alerts.yaml; ConfigError names the file
    and line. (monitor.yaml settings are read once at start-up.)"""
    return Loaded(load_feeds(config_dir), load_profiles(config_dir), load_channels(config_dir))


def config_signature(config_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """What the reloadable files look like on disk (name, size, mtime): cheap to compare."""
    paths = [config_dir / name for name in (FEEDS_FILE, ALERTS_FILE, CONCEPTS_FILE)]
    folder = config_dir / PROFILES_DIR
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


class Service:
    """One monitor instance over one database and one configuration folder."""

    def __init__(
        self,
        config_dir: Path,
        settings: Settings,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = utc_now,
        send: Callable[[ChannelSpec, Message], None] | None = None,
    ) -> None:
        self.config_dir = config_dir
        self.settings = settings
        self.engine = engine
        self.clock = clock
        self._send = send or Notifier().send
        self._delivery_lock = asyncio.Lock()
        self._signature = config_signature(config_dir)
        self._apply(load_config(config_dir))

    def _apply(self, loaded: Loaded) -> None:
        for profile in loaded.profiles:
            if profile.alert == "digest":
                log.warning(
                    "profile %s asks for digest alerts, which this version does not send yet: "
                    "its alerts are sent one by one",
                    profile.name,
                )
        self.loaded = loaded
        self.matcher = Matcher(loaded.profiles)
        self.routes = {p.name: route(loaded.channels, p.tags) for p in loaded.profiles}

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
            len(loaded.channels),
        )
        return True

    def _notify_system(self, title: str, body: str) -> None:
        """A notice about the monitor itself: logged, and sent to the channels tagged `system`
        and the untagged ones."""
        log.warning("system notice: %s\n%s", title, body)
        for key in route(self.loaded.channels, (SYSTEM_TAG,)):
            channel = next((c for c in self.loaded.channels if c.key == key), None)
            if channel is None:
                continue  # no channel takes system notices: the log line above is the notice
            try:
                self._send(channel, Message(title=f"[monitor] {title}", body=body))
            except DeliveryError as exc:
                log.error("system notice to %s failed: %s", key, exc)

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
        stages = Stages(
            engine=self.engine,
            fetcher=fetcher,
            extractor=extractor,
            matcher=self.matcher,
            routes=self.routes,
            settings=self.settings,
            clock=self.clock,
            limit=asyncio.Semaphore(self.settings.fetch.concurrency),
        )
        reports = await asyncio.gather(*(self._poll_safely(feed, stages) for feed in due))
        delivery = await self.deliver()
        await asyncio.to_thread(self.feed_notices)
        report = CycleReport(
            feeds_polled=len(reports),
            feeds_failed=sum(r.status == "error" for r in reports),
            entries_new=sum(r.entries_new for r in reports),
            hits=sum(r.hits for r in reports),
            alerts_created=sum(r.alerts for r in reports),
            delivery=delivery,
            duration_ms=int((time.monotonic() - started) * 1000),
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
        """Tell the system channels about feeds failing, gone, recovered or silent."""
        now = self.clock()
        sent = notices(feeds.feed_health(self.engine), self.settings.health, now)
        for notice in sent:
            self._notify_system(notice.title, notice.body)
            feeds.mark_notice(self.engine, notice.feed_id, notice.kind, now)
        return len(sent)

    async def deliver(self) -> DeliveryReport:
        """Deliver due alerts; one delivery pass at a time, so no alert is sent twice."""
        async with self._delivery_lock:
            return await asyncio.to_thread(
                deliver_pending,
                self.engine,
                self.loaded.channels,
                self._send,
                self.settings.alerts,
                self.clock,
            )

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
            scheduler.start()
            log.info(
                "monitor running: %d feeds, %d profiles, %d channels; tick every %gs",
                len(self.loaded.feeds),
                len(self.loaded.profiles),
                len(self.loaded.channels),
                tick_seconds,
            )
            await stop.wait()
            scheduler.pause()
            if running:
                await asyncio.wait(running, timeout=DRAIN_SECONDS)
            scheduler.shutdown(wait=False)
        log.info("monitor stopped")
