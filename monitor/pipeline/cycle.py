"""A cycle's polls: the due feeds claimed a batch at a time as their polls start, each polled
(a bug met by one feed recorded against it), and what was claimed but not polled given back
when the service stops."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Protocol

from monitor.config.secrets import redact_urls
from monitor.models import DueFeed, PollRecord, PollResult
from monitor.pipeline.context import PollContext
from monitor.pipeline.health import next_poll
from monitor.pipeline.leases import HeldLeases
from monitor.pipeline.poll import log_poll, poll_feed

log = logging.getLogger("monitor.service")  # the cycle's lines, under the service's name


class CycleWatch(Protocol):
    """Follows a cycle as it runs (the progress display of `monitor run` on a terminal)."""

    def due(self, feeds: int) -> None:
        """How many feeds are due, once the feed list is synced and before the polls."""

    def polled(self, report: PollResult) -> None:
        """One feed's poll ended (whatever its outcome)."""


class Tally:
    """A CycleWatch keeping every poll's result (and passing both calls on to `watch`): the
    polls that ended, even when the cycle does not."""

    def __init__(self, watch: CycleWatch | None) -> None:
        self.watch = watch
        self.reports: list[PollResult] = []

    def due(self, feeds: int) -> None:
        if self.watch is not None:
            self.watch.due(feeds)

    def polled(self, report: PollResult) -> None:
        self.reports.append(report)
        if self.watch is not None:
            self.watch.polled(report)


async def poll_due(
    ctx: PollContext, *, everything: bool, stopping: asyncio.Event, watch: CycleWatch | None
) -> list[PollResult]:
    """Poll the due feeds with `width` (4 × fetch.concurrency, at least 64) polls at once,
    claiming `width` feeds whenever those claimed are all started: instances sharing a
    database share the due feeds, and a feed is leased only from shortly before its poll
    starts. Once `stopping` is set nothing more is claimed or started, and the claimed
    feeds not started are released; when the polls are cancelled (shutdown ran out of
    time) the finished ones are written and every other claimed feed is released at
    once, so another instance takes it without waiting for the lease. The same happens at
    the cycle's deadline (cycle_deadline), and the polls finished by then are returned:
    one slow feed never holds the cycle, and what it stored so far stays stored."""
    settings = ctx.settings
    width = max(4 * settings.fetch.concurrency, 64)
    lease = timedelta(seconds=settings.lease)
    claimed: list[DueFeed] = []
    waiting: list[DueFeed] = []
    finished: set[int] = set()
    reports: list[PollResult] = []
    claiming = asyncio.Lock()
    exhausted = False

    held = HeldLeases(ctx, lease)

    async def next_feed() -> DueFeed | None:
        nonlocal exhausted
        async with claiming:
            if not waiting and not exhausted and not stopping.is_set():
                now = ctx.clock()
                batch = await asyncio.to_thread(
                    ctx.store.claim_due,
                    now,
                    everything=everything,
                    lease=lease,
                    limit=None if everything else width,
                )
                claimed.extend(batch)
                held.claimed(batch, now)
                waiting.extend(reversed(batch))  # popped from the end: oldest due first
                exhausted = everything or len(batch) < width
            if stopping.is_set() or not waiting:
                return None
            return waiting.pop()

    async def poller() -> None:
        while (feed := await next_feed()) is not None:
            report = await _poll_safely(feed, ctx)
            reports.append(report)
            finished.add(feed.id)  # its lease stays held until its result is written: the
            # recorder may keep it a moment, and the store renews only leases still ours
            if watch is not None:
                watch.polled(report)

    renewing = asyncio.create_task(held.renew())
    try:
        async with asyncio.timeout(settings.cycle_deadline):
            await asyncio.gather(*(poller() for _ in range(width)))
    except TimeoutError:
        unfinished = [feed.id for feed in claimed if feed.id not in finished]
        log.warning(
            "cycle_deadline (%gs) passed: %d polls stopped, their feeds released for the "
            "next cycle",
            settings.cycle_deadline,
            len(unfinished) - len(waiting),
        )
        await _give_back(ctx, unfinished, "cycle deadline")
        return reports
    except asyncio.CancelledError:
        unfinished = [feed.id for feed in claimed if feed.id not in finished]
        await asyncio.shield(_give_back(ctx, unfinished, "shutdown"))
        raise
    finally:
        renewing.cancel()
    await ctx.recorder.flush()
    await asyncio.to_thread(ctx.store.release_leases, [f.id for f in waiting])
    return reports


async def _give_back(ctx: PollContext, unfinished: list[int], why: str) -> None:
    await ctx.recorder.flush()
    await asyncio.to_thread(ctx.store.release_leases, unfinished)
    log.info("%s: %d claimed feeds released unpolled", why, len(unfinished))


async def _poll_safely(feed: DueFeed, ctx: PollContext) -> PollResult:
    """A bug met by one feed is logged and recorded against it; the cycle goes on. A
    database that cannot be reached or written fails the poll (category `database`), with
    no traceback: the service says once that the database is down (ctx.database_fault)."""
    try:
        return await poll_feed(feed, ctx)
    except Exception as exc:
        fault = ctx.store.unavailable(exc)
        if fault is not None:
            ctx.database_fault = ctx.database_fault or exc
            result = PollResult(
                feed.label, "error", error=f"database: {fault}", error_category="database"
            )
            log_poll(result)  # not recorded: the feed is polled again when its lease ends
            return result
        log.exception("unexpected error polling %s", feed.label)
        error = redact_urls(f"internal error: {type(exc).__name__}: {exc}")
        now = ctx.clock()
        result = PollResult(feed.label, "error", error=error, error_category="internal")
        record = PollRecord(feed.id, result, now, next_poll(feed, result, now, ctx.settings))
        await asyncio.to_thread(ctx.store.record_polls, [record])
        return result
