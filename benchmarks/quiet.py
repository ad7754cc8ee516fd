"""Quiet cycle: what polling costs when nothing changed.

The real Service polls N farm feeds (default 5,000; no entries unless --entries, so the
warm-up cycle stays short) in two variants, each with its own config folder and SQLite
database:

- `304`: the farm answers If-None-Match with 304 Not Modified (the service stored the ETags
  in a first, unmeasured cycle);
- `unchanged body`: a farm that ignores validators and sends the same 200 body again; the
  service drops it by its fingerprint (sha256 of the body) before parsing.

After the warm-up cycle, `--cycles` cycles per variant are measured, interleaved (304,
unchanged, 304, …), each with `everything=True` so every feed is polled. Per cycle: polls
per second (feeds polled / cycle wall time), main-process CPU per poll (process_time of the
whole process, its threads included, / polls), seconds per cycle scaled to 5,000 feeds, and
the peak summed RSS of the main process and its extraction processes (none are started in
a quiet cycle: the pool starts its workers on the first task).

    .venv/bin/python -m benchmarks.quiet [--feeds 5000] [--cycles 3] [--concurrency 16] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from multidict import CIMultiDict
from sqlalchemy import Engine

from benchmarks.common import REPO, Figure, Spread, report
from benchmarks.farm import Farm, FarmSpec, _app, _State
from benchmarks.instance import Meter, MonitorLogs, database, fresh_config
from monitor.config.settings import load_settings
from monitor.ingest.fetch import Fetcher
from monitor.ingest.pool import WorkerPool
from monitor.runtime.cyclereport import CycleReport
from monitor.runtime.service import Service
from monitor.store.engine import open_engine, upgrade

NAME = "quiet"
REFERENCE_FEEDS = 5_000  # the targets speak of 5,000 feeds
VARIANTS = ("304", "unchanged body")
_VALIDATORS = ("If-None-Match", "If-Modified-Since")


@web.middleware
async def _ignore_validators(request: web.Request, handler: Any) -> web.StreamResponse:
    """Hide the conditional headers from the farm, which then always sends the body."""
    if any(name in request.headers for name in _VALIDATORS):
        headers = CIMultiDict(request.headers)
        for name in _VALIDATORS:
            headers.popall(name, None)
        request = request.clone(headers=headers)
    response: web.StreamResponse = await handler(request)
    return response


def serve_ignoring_validators(spec: str, port: int) -> None:
    """The farm's own app behind a middleware that drops validators (run in a process)."""

    async def main() -> None:
        app = _app(_State(FarmSpec(**json.loads(spec))))
        app.middlewares.append(_ignore_validators)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
        await asyncio.Event().wait()

    asyncio.run(main())


class IgnoringFarm(Farm):
    """The feed farm, except that it never answers 304: unchanged feeds come back whole."""

    def __enter__(self) -> IgnoringFarm:
        spec = json.dumps(asdict(self.spec))
        code = (
            f"from benchmarks.quiet import serve_ignoring_validators as s; s({spec!r}, {self.port})"
        )
        self._process = subprocess.Popen([sys.executable, "-c", code], cwd=REPO)  # noqa: S603
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError("the validator-ignoring farm exited at start-up")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        self._process.kill()
        raise RuntimeError("the validator-ignoring farm did not start within 120 s")


@dataclass(frozen=True, slots=True)
class QuietCycle:
    """One measured cycle of one variant."""

    variant: str
    feeds_polled: int
    seconds: float  # CycleReport.duration_ms
    main_cpu: float  # seconds, process_time of the main process
    farm_cpu: float  # seconds, the farm's process (shares the cores)
    farm_requests: int
    entries_new: int
    feeds_failed: int
    peak_rss_mb: float
    rss_at_peak: dict[str, float]  # MB per process at the peak
    fetch_feed_seconds: float  # summed wall time of the fetch_feed stage

    @property
    def polls_per_second(self) -> float:
        return self.feeds_polled / self.seconds

    @property
    def cpu_ms_per_poll(self) -> float:
        return self.main_cpu / self.feeds_polled * 1000

    @property
    def seconds_per_reference(self) -> float:
        return self.seconds * REFERENCE_FEEDS / self.feeds_polled


@dataclass(slots=True)
class Instance:
    """One variant's farm, service and database."""

    variant: str
    farm: Farm
    service: Service
    engine: Engine
    warmup: CycleReport | None = None


def bench_env(url: str, concurrency: int) -> dict[str, str]:
    return {
        "MONITOR_DATABASE_URL": url,
        "MONITOR_FETCH_CONCURRENCY": str(concurrency),
        "MONITOR_FETCH_PER_HOST": str(concurrency),  # every farm feed is on one host
    }


def open_instance(variant: str, farm: Farm, workdir: Path, concurrency: int) -> Instance:
    config_dir = fresh_config(workdir / "config", farm.feed_urls)
    with database("sqlite", workdir) as url:  # a file in workdir: outlives the block
        settings = load_settings(config_dir, env=bench_env(url, concurrency))
    engine = open_engine(settings.database_url)
    upgrade(engine)
    return Instance(variant, farm, Service(config_dir, settings, engine), engine)


async def measure_cycle(
    instance: Instance, fetcher: Fetcher, extractor: WorkerPool, farms: list[int | None]
) -> QuietCycle:
    """One cycle of `instance`; memory counts neither farm (`farms`), CPU the polled one."""
    before = instance.farm.requests()
    with MonitorLogs(), Meter(exclude=instance.farm.pid, ignore=farms) as meter:
        report = await instance.service.cycle(fetcher, extractor, everything=True)
    return QuietCycle(
        variant=instance.variant,
        feeds_polled=report.feeds_polled,
        seconds=report.duration_ms / 1000,
        main_cpu=meter.main_cpu,
        farm_cpu=meter.excluded_cpu,
        farm_requests=instance.farm.requests() - before,  # (the stats request is not counted)
        entries_new=report.entries_new,
        feeds_failed=report.feeds_failed,
        peak_rss_mb=meter.peak_rss / 2**20,
        rss_at_peak=meter.at_peak,
        fetch_feed_seconds=report.stages.get("fetch_feed", {}).get("seconds", 0.0),
    )


async def cycles(instances: list[Instance], count: int, concurrency: int) -> list[QuietCycle]:
    """A warm-up cycle per instance, then `count` measured cycles each, interleaved; one
    fetcher and one extraction pool serve both, as one service would."""
    settings = instances[0].service.settings
    out: list[QuietCycle] = []
    async with AsyncExitStack() as stack:
        fetcher = await stack.enter_async_context(Fetcher(settings.fetch))
        extractor = await stack.enter_async_context(WorkerPool(settings.extract))
        for instance in instances:
            with MonitorLogs():
                instance.warmup = await instance.service.cycle(fetcher, extractor, everything=True)
            print(f"{instance.variant}: warm-up cycle {instance.warmup.duration_ms / 1000:.1f} s")
        for number in range(count):
            for instance in instances:
                farms = [other.farm.pid for other in instances]
                out.append(await measure_cycle(instance, fetcher, extractor, farms))
                last = out[-1]
                print(
                    f"cycle {number + 1} {instance.variant}: {last.polls_per_second:,.0f} polls/s, "
                    f"{last.cpu_ms_per_poll:.2f} ms CPU/poll, {last.seconds:.1f} s",
                    flush=True,
                )
    return out


def figures(measured: list[QuietCycle], feeds: int) -> list[Figure]:
    scaled = "" if feeds == REFERENCE_FEEDS else f" (scaled from {feeds:,} feeds)"
    out: list[Figure] = []
    for variant in VARIANTS:
        runs = [c for c in measured if c.variant == variant]
        polls = Spread.of(c.polls_per_second for c in runs)
        cpu = Spread.of(c.cpu_ms_per_poll for c in runs)
        seconds = Spread.of(c.seconds_per_reference for c in runs)
        out += [
            Figure(f"quiet {variant}: polls", polls, "/s", ">= 1,000/s", polls.median >= 1_000),
            Figure(
                f"quiet {variant}: main CPU per poll",
                cpu,
                "ms",
                "<= 1 ms",
                cpu.median <= 1.0,
                "process_time of the service's process (threads included) / polls",
            ),
            Figure(
                f"quiet {variant}: cycle of 5,000 feeds",
                seconds,
                "s",
                "<= 10 s",
                seconds.median <= 10.0,
                f"cycle wall time{scaled}",
            ),
            Figure(
                f"quiet {variant}: peak memory",
                Spread.of(c.peak_rss_mb for c in runs),
                "MB",
                note="summed RSS of the main process and extraction processes (pebble starts "
                "none until a page or a large feed needs one)",
            ),
        ]
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--feeds", type=int, default=REFERENCE_FEEDS, help="feeds (5,000)")
    parser.add_argument("--cycles", type=int, default=3, help="measured cycles per variant")
    parser.add_argument(
        "--entries",
        type=int,
        default=0,
        help="entries per feed, text in the feed (default 0: a warm-up storing one article "
        "per feed costs ~20 ms a feed, minutes at 5,000, and the quiet cycles do not read them)",
    )
    parser.add_argument("--concurrency", type=int, default=16, help="fetch.concurrency")
    parser.add_argument("--quick", action="store_true", help="500 feeds, 2 cycles")


def measure(options: argparse.Namespace) -> list[QuietCycle]:
    spec = FarmSpec(feeds=options.feeds, entries=options.entries, links=False)
    with (
        Farm(spec) as plain,
        IgnoringFarm(spec) as ignoring,
        tempfile.TemporaryDirectory(prefix="bench-quiet-") as tmp,
    ):
        instances = [
            open_instance(variant, farm, Path(tmp) / f"v{i}", options.concurrency)
            for i, (variant, farm) in enumerate(zip(VARIANTS, (plain, ignoring), strict=True))
        ]
        try:
            return asyncio.run(cycles(instances, options.cycles, options.concurrency))
        finally:
            for instance in instances:
                instance.engine.dispose()


def run(options: argparse.Namespace) -> dict[str, Any]:
    if options.quick:
        options.feeds, options.cycles = min(options.feeds, 500), 2
    setup = (
        f"{options.feeds:,} feeds x {options.entries} entries (text in the feed), SQLite; "
        "fetch.concurrency = "
        f"fetch.per_host = {options.concurrency}; {options.cycles} measured cycles per variant"
    )
    print(setup)
    measured = measure(options)
    incomplete = [c for c in measured if c.feeds_polled != options.feeds or c.entries_new]
    return {
        "name": NAME,
        "figures": [f.as_dict() for f in figures(measured, options.feeds)],
        "details": {
            "setup": setup,
            "cycles": [
                asdict(c)
                | {"polls_per_second": c.polls_per_second, "cpu_ms_per_poll": c.cpu_ms_per_poll}
                for c in measured
            ],
            "farm_cpu_ms_per_poll": {
                v: statistics.median(
                    c.farm_cpu / c.feeds_polled * 1000 for c in measured if c.variant == v
                )
                for v in VARIANTS
            },
            "incomplete_cycles": len(incomplete),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    report(NAME, "Quiet cycle", run(parser.parse_args()))


if __name__ == "__main__":
    main()
