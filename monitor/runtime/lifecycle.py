"""The process around a Service: what `monitor run` and `monitor run --once` add to its
cycles. The instance lock (one per SQLite file), the instance's registration, SIGINT and
SIGTERM (stop claiming, give the work in flight shutdown_timeout, release what is left; a
second signal exits at once), the APScheduler jobs, the HTTP server beside them (serving the
application the caller hands in: the web application with /healthz and /metrics), and the
first cycle's progress display (drawn by the caller's `progress`, a seam: the CLI's is a bar
on a terminal). Also `serve`, the HTTP server alone until a signal (`monitor web`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from starlette.types import ASGIApp

from monitor.evidence.recheck import Rechecked
from monitor.ingest.fetch import Fetcher
from monitor.ingest.pool import WorkerPool
from monitor.models import PollResult
from monitor.runtime.cyclereport import CycleReport
from monitor.runtime.httpserver import WebServer
from monitor.runtime.service import Service
from monitor.runtime.takeover import Heartbeat, heartbeat_every
from monitor.store.instancelock import InstanceLock

log = logging.getLogger("monitor.service")

CANCEL_SECONDS = 5.0  # after shutdown_timeout: how long cancelled work gets to release its feeds

# progress(description, total) opens a display and yields advance(n): monitor.cli.common's
ShowProgress = Callable[[str, int | None], AbstractContextManager[Callable[[int], None]]]


async def run_once(
    service: Service, *, everything: bool = False, progress: ShowProgress | None = None
) -> CycleReport:
    """Exactly one cycle with freshly opened fetcher and extraction workers, its polls
    counted on `progress` if given. SIGTERM or Ctrl-C cancels it (finished polls are
    written, the other claimed feeds released); a second signal exits at once."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    cancel = task.cancel if task is not None else (lambda: False)
    on_signal = _stop_on_signal(service, "stopping the cycle", cancel)
    try:
        async with _running(service, loop, on_signal) as (fetcher, pool):
            with _watching(progress) as watch:
                report = await service.cycle(fetcher, pool, everything=everything, watch=watch)
            for line in report.skipped:
                log.info("%s", line)
            return report
    except asyncio.CancelledError:
        if not service.stopping.is_set():
            raise
        log.info("cycle stopped by a signal: finished polls written, the rest released")
        await _leave_stuck_threads(service)
        return CycleReport()


async def recheck_once(service: Service, *, everything: bool = False) -> Rechecked:
    """The due re-checks of hit articles now (every watched one with `everything`), then a
    delivery pass for the notices they queued: `monitor evidence recheck`."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    cancel = task.cancel if task is not None else (lambda: False)
    on_signal = _stop_on_signal(service, "stopping the re-checks", cancel)
    async with _running(service, loop, on_signal) as (fetcher, pool):
        done = await service.recheck(fetcher, pool, everything=everything)
        await service.deliver()
        return done


async def run_forever(
    service: Service, *, app: ASGIApp | None = None, progress: ShowProgress | None = None
) -> None:
    """Run the scheduled jobs until SIGINT/SIGTERM (the first cycle's polls counted on
    `progress` if given), and serve `app`, if given, on server.host:server.port from before
    the first cycle. Then no new work is claimed, the work in progress gets shutdown_timeout
    to finish, what is left is cancelled (its feeds released), the server closes (open
    requests get httpserver.STOP_SECONDS), and the method returns; a second signal exits at
    once. A port that cannot be bound is a ConfigError before any cycle."""
    loop = asyncio.get_running_loop()
    on_signal = _stop_on_signal(service, "finishing the work in progress", lambda: None)
    running: set[asyncio.Task[object]] = set()

    def tracked(job: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            task = asyncio.current_task()
            if task is None or service.stopping.is_set():
                return
            running.add(task)
            try:
                await job()
            except asyncio.CancelledError:
                if not service.stopping.is_set():
                    raise
                # cancelled by _drain: it has released what it held; nothing to report
            except Exception as exc:
                if not service.outage.fault(exc):  # an outage is said once, not per job
                    log.exception("scheduled job failed; it runs again at its next time")
            finally:
                running.discard(task)

        return run

    overlap = _SkippedTick()  # a tick during a long cycle is expected, not a warning
    logging.getLogger("apscheduler.scheduler").addFilter(overlap)
    try:
        async with _running(service, loop, on_signal) as (fetcher, pool), _serving(service, app):
            shown = progress  # the first cycle only: later ones are the log's

            async def tick() -> None:
                nonlocal shown
                with _watching(shown) as watch:
                    shown = None
                    await service.cycle(fetcher, pool, watch=watch)

            jobs = scheduler(service, loop, tick, tracked)
            jobs.start()
            log.info(
                "monitor running: %d feeds, %d profiles, %d channels; tick every %gs",
                len(service.loaded.feeds),
                len(service.loaded.profiles),
                len(service.loaded.alerts.channels),
                service.settings.tick,
            )
            await service.stopping.wait()
            jobs.pause()
            await _drain(service, running)
            jobs.shutdown(wait=False)
    finally:
        logging.getLogger("apscheduler.scheduler").removeFilter(overlap)
    log.info("monitor stopped")
    await _leave_stuck_threads(service)


def scheduler(
    service: Service,
    loop: asyncio.AbstractEventLoop,
    tick: Callable[[], Awaitable[None]],
    tracked: Callable[[Callable[[], Awaitable[object]]], Callable[[], Awaitable[None]]],
) -> AsyncIOScheduler:
    """The jobs of run_forever (`tick` is the poll job, `tracked` wraps every job). Every
    job coalesces (runs missed while the loop was busy collapse into
    one run) and never runs twice at once. Misfire grace is per job: APScheduler's
    default of one second would silently skip a tick that a long cycle delayed."""
    tick_seconds = service.settings.tick
    every_tick = IntervalTrigger(seconds=tick_seconds)
    late = int(tick_seconds * 10)  # a tick delayed by a long cycle still runs, once
    scheduler = AsyncIOScheduler(
        event_loop=loop, job_defaults={"coalesce": True, "max_instances": 1}
    )
    now = datetime.now(UTC)

    def add(job: Callable[[], Awaitable[object]], trigger: Any, name: str, **kw: Any) -> None:
        scheduler.add_job(tracked(job), trigger, id=name, name=name, **kw)

    add(tick, every_tick, "poll", next_run_time=now, misfire_grace_time=late)
    add(service.deliver, every_tick, "deliver", misfire_grace_time=late)
    add(_threaded(service.reload), every_tick, "reload", misfire_grace_time=late)
    add(_threaded(service.self_check), every_tick, "health", misfire_grace_time=late)
    # a digest, and pruning, run however late they are: skipping one loses it
    for name, schedule in service.loaded.alerts.schedules.items():
        add(service.deliver, schedule.trigger, f"digest-{name}", misfire_grace_time=None)
    if service.settings.retention.article_text or service.settings.evidence.retention:
        add(
            _threaded(service.prune),
            IntervalTrigger(seconds=service.settings.retention.interval),
            "retention",
            next_run_time=now + timedelta(minutes=1),
            misfire_grace_time=None,
        )
    return scheduler


async def serve(app: ASGIApp, host: str, port: int, *, serves: str, hint: str) -> None:
    """Serve `app` alone (no polling) until SIGINT or SIGTERM, then close the server; what
    `serves` and `hint` are: httpserver.WebServer's."""
    stopped = asyncio.Event()

    def on_signal(signum: int) -> None:
        log.info("%s received: stopping the server", signal.Signals(signum).name)
        stopped.set()

    with _signals(asyncio.get_running_loop(), on_signal):
        async with WebServer(app, host, port, serves=serves, hint=hint):
            await stopped.wait()


def _serving(
    service: Service, app: ASGIApp | None
) -> contextlib.AbstractAsyncContextManager[object]:
    """The HTTP server of run_forever, on server.host:server.port (none without an app, or
    with server.enabled false)."""
    if app is None or not service.settings.server.enabled:
        return contextlib.nullcontext()
    server = service.settings.server
    serves = "the web application, /healthz and /metrics"
    return WebServer(app, server.host, server.port, serves=serves)


async def _drain(service: Service, running: set[asyncio.Task[object]]) -> None:
    """Give the jobs in progress shutdown_timeout to finish, then cancel them and give
    the cancelled ones CANCEL_SECONDS to write what they finished and release the rest
    (APScheduler would cancel them too, without waiting)."""
    if running:
        await asyncio.wait(set(running), timeout=service.settings.shutdown_timeout)
    left = set(running)
    if left:
        log.warning("shutdown: %d job(s) still running after %gs: cancelled",
                    len(left), service.settings.shutdown_timeout)  # fmt: skip
        for task in left:
            task.cancel()
        await asyncio.wait(left, timeout=CANCEL_SECONDS)


async def _leave_stuck_threads(service: Service) -> None:
    """The last word on the shutdown bound. Blocking work runs in threads, and a thread
    cannot be cancelled: a delivery waiting out a channel's `throttle` (up to minutes), or
    a send or a query hanging on its socket, would keep the process alive after everything
    else stopped, since Python joins those threads at exit. They get until the bound
    (shutdown_timeout and CANCEL_SECONDS after the signal); a thread still busy then is
    left behind: the process exits at once (status 0) after saying so. What such a thread
    had claimed stays in the outbox (on PostgreSQL, due again when its lease ends)."""
    loop = asyncio.get_running_loop()
    signalled = service.stop_requested_at or time.monotonic()
    bound = service.settings.shutdown_timeout + CANCEL_SECONDS
    left = max(signalled + bound - time.monotonic(), 0.5)
    try:
        await asyncio.wait_for(asyncio.shield(loop.shutdown_default_executor()), left)
    except TimeoutError:
        log.warning(
            "shutdown: work still blocked in a thread after %gs (a channel's throttle or a "
            "hung connection): exiting without it; what it had not sent stays in the outbox",
            bound,
        )
        logging.shutdown()  # every handler flushed: os._exit skips that
        os._exit(0)


class _PollCounter:
    """The CycleWatch that counts a cycle's polls on a progress display, opened once the
    number of due feeds is known (nothing is drawn when none is due)."""

    def __init__(self, progress: ShowProgress, opened: contextlib.ExitStack) -> None:
        self._progress, self._opened = progress, opened
        self._advance: Callable[[int], None] = lambda n: None

    def due(self, feeds: int) -> None:
        if feeds:
            self._advance = self._opened.enter_context(self._progress("polling feeds", feeds))

    def polled(self, report: PollResult) -> None:
        self._advance(1)


@contextlib.contextmanager
def _watching(progress: ShowProgress | None) -> Iterator[_PollCounter | None]:
    """A _PollCounter on `progress` for one cycle, its display closed when the block ends;
    None without a progress display."""
    if progress is None:
        yield None
        return
    with contextlib.ExitStack() as opened:
        yield _PollCounter(progress, opened)


@contextlib.asynccontextmanager
async def _running(
    service: Service, loop: asyncio.AbstractEventLoop, on_signal: Callable[[int], None]
) -> AsyncIterator[tuple[Fetcher, WorkerPool]]:
    """What both ways of running hold: the instance lock (on a SQLite file, what it finds
    claimed is released: its holder died), the signal handlers, the instance's registration
    (ended however the block ends) and its heartbeat, the fetcher and the extraction
    workers."""
    with InstanceLock(service.engine) as lock, _signals(loop, on_signal):
        if lock.path is not None:
            await asyncio.to_thread(service.release_stale_claims)
        await asyncio.to_thread(service.register)
        try:
            async with (
                _heartbeat(service),
                Fetcher(service.settings.fetch) as fetcher,
                WorkerPool(service.settings.extract) as pool,
            ):
                yield fetcher, pool
        finally:
            await asyncio.shield(asyncio.to_thread(service.unregister))


@contextlib.asynccontextmanager
async def _heartbeat(service: Service) -> AsyncIterator[None]:
    with Heartbeat(service.beat, heartbeat_every(service.settings.tick)):
        yield


def _stop_on_signal(
    service: Service, doing: str, then: Callable[[], object]
) -> Callable[[int], None]:
    """The SIGINT/SIGTERM handler: the first signal sets `service.stopping` and calls `then`;
    a second one exits at once."""

    def on_signal(signum: int) -> None:
        name = signal.Signals(signum).name
        if service.stopping.is_set():
            log.warning("second %s: exiting at once", name)
            _show_cursor()
            os._exit(128 + signum)
        log.info("%s received: %s", name, doing)
        service.stop_requested_at = time.monotonic()
        service.stopping.set()
        then()

    return on_signal


@contextlib.contextmanager
def _signals(loop: asyncio.AbstractEventLoop, handler: Callable[[int], None]) -> Iterator[None]:
    """SIGINT and SIGTERM call `handler(signum)` on the loop while the block runs (only in
    the main thread, the one Python delivers signals to)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, handler, signum)
    try:
        yield
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def _show_cursor() -> None:
    """A progress bar hides the terminal's cursor until it ends; exiting at once skips that
    end, so give the cursor back first."""
    if os.isatty(2):  # the descriptor itself: while a bar is drawn, sys.stderr is its proxy
        os.write(2, b"\x1b[?25h")


class _SkippedTick(logging.Filter):
    """Drops APScheduler's warning that a run was skipped because the previous one of the
    same job is still running: with max_instances=1 that is how a cycle longer than a tick
    is meant to behave (the next tick after it runs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


def _threaded(job: Callable[[], object]) -> Callable[[], Awaitable[object]]:
    """A blocking job (database, files) as a coroutine run in a thread."""

    async def run() -> object:
        return await asyncio.to_thread(job)

    return run
