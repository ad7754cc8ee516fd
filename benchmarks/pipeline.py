"""Whole pipeline: articles per hour from fresh feeds to stored hits and queued alerts.

The real Service polls a feed farm on 127.0.0.1 (N feeds x M entries, each entry linking to
a corpus article page, `--delay` seconds before every response), with about 1,000 profile
terms (the 5 shipped profiles plus generated ones sampled from the farm's pages), on SQLite
and on PostgreSQL. Every run starts fresh: a new config folder, a new empty database, one
cycle with `everything=True`. Runs interleave the limit (benchmarks.limit: extraction alone
on every core, same pages), the SQLite pipeline and the PostgreSQL pipeline, so drift hits
all alike, and pipeline / limit is taken run by run.

Measured: articles per hour (new entries stored / cycle wall time), each stage's share of
the summed stage time (CycleReport.stages), CPU seconds of the main process, the extraction
workers and the farm, and the peak of the summed RSS of the main process and its extraction
processes (sampled every 0.2 s). The extraction pool is started and warmed before the cycle,
as in the running service where it outlives cycles.

    .venv/bin/python -m benchmarks.pipeline [--feeds 20] [--entries 25] [--delay 0.1]
        [--runs 2] [--concurrency 16] [--databases sqlite,postgresql] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks import limit
from benchmarks.common import Figure, Spread, report
from benchmarks.farm import Farm
from benchmarks.instance import (
    ADMIN_DSN,
    Meter,
    MonitorLogs,
    article_count,
    bench_profiles,
    database,
    fresh_config,
    postgres_unavailable,
)
from monitor.config.settings import load_settings
from monitor.ingest.fetch import Fetcher
from monitor.ingest.pool import WorkerPool
from monitor.pipeline.timing import STAGES
from monitor.runtime.service import Service
from monitor.store.engine import open_engine, upgrade

NAME = "pipeline"
TARGET_RATIO = 0.8  # the target: pipeline / limit
TARGET_MB = 600  # the target: main process plus extraction workers


@dataclass(frozen=True, slots=True)
class PipelineRun:
    """One fresh cycle over the whole farm."""

    database: str
    served: int  # entries the farm's feeds list
    entries_new: int  # CycleReport.entries_new
    stored: int  # article rows in the database afterwards
    seconds: float  # CycleReport.duration_ms
    hits: int
    alerts_created: int
    alerts_sent: int
    feeds_failed: int
    stages: dict[str, dict[str, float]]
    main_cpu: float  # seconds, main process (event loop and its threads)
    worker_cpu: float  # seconds, extraction processes
    farm_cpu: float  # seconds, the farm's server process (shares the cores)
    peak_rss_mb: float  # main + extraction processes, summed, highest sample
    start_rss_mb: float  # the same sum as the cycle began
    peak_pss_mb: float  # main + extraction processes, summed PSS, highest sample
    rss_at_peak: dict[str, float]  # MB per process at the peak
    log_errors: list[str]  # the first ERROR records the monitor logged

    @property
    def articles_per_hour(self) -> float:
        return self.entries_new / self.seconds * 3600

    @property
    def cpu_ms_per_article(self) -> float:
        """Main process and extraction workers (not the farm, which stands for the web)."""
        return (self.main_cpu + self.worker_cpu) / max(self.entries_new, 1) * 1000

    def shares(self) -> dict[str, float]:
        total = sum(s["seconds"] for s in self.stages.values()) or 1.0
        return {name: s["seconds"] / total for name, s in self.stages.items()}


def bench_env(url: str, concurrency: int) -> dict[str, str]:
    """The settings that differ from the defaults (fresh_config writes none), as MONITOR_*
    variables."""
    return {
        "MONITOR_DATABASE_URL": url,
        "MONITOR_FETCH_CONCURRENCY": str(concurrency),
        # every farm URL is on 127.0.0.1:port: one host; the shipped 2 would serialise the run,
        # the shipped page budget of that host would leave most pages for later cycles, and a
        # long first cycle is what is measured
        "MONITOR_FETCH_PER_HOST": str(concurrency),
        "MONITOR_FETCH_MAX_PAGES_PER_HOST": "0",
        "MONITOR_FETCH_MAX_PAGES_PER_POLL": "0",
        "MONITOR_CYCLE_DEADLINE": "24h",
        # the farm's entries are dated from 2026-11-01: let them all alert
        "MONITOR_ALERTS_MAX_AGE": "3650d",
    }


@dataclass(frozen=True, slots=True)
class Served:
    """What a measuring process needs to know of the farm (a Farm itself does not pickle)."""

    feed_urls: list[str]
    entries: int
    pid: int | None


async def cycle(
    config_dir: Path, url: str, options: argparse.Namespace, farm: Served
) -> PipelineRun:
    """One fresh service over `url`, one cycle over every feed, measured."""
    settings = load_settings(config_dir, env=bench_env(url, options.concurrency))
    engine = open_engine(settings.database_url)
    try:
        upgrade(engine)
        service = Service(config_dir, settings, engine)
        async with Fetcher(settings.fetch) as fetcher, WorkerPool(settings.extract) as extractor:
            await warm(extractor, options.warm_page)
            with MonitorLogs() as logs, Meter(exclude=farm.pid) as meter:
                report = await service.cycle(fetcher, extractor, everything=True)
        stored = article_count(engine)
    finally:
        engine.dispose()
    return PipelineRun(
        database=engine.dialect.name,
        served=len(farm.feed_urls) * farm.entries,
        entries_new=report.entries_new,
        stored=stored,
        seconds=report.duration_ms / 1000,
        hits=report.hits,
        alerts_created=report.alerts_created,
        alerts_sent=report.delivery.sent,
        feeds_failed=report.feeds_failed,
        stages=report.stages,
        main_cpu=meter.main_cpu,
        worker_cpu=meter.children_cpu,
        farm_cpu=meter.excluded_cpu,
        peak_rss_mb=meter.peak_rss / 2**20,
        start_rss_mb=meter.start_rss / 2**20,
        peak_pss_mb=meter.peak_pss / 2**20,
        rss_at_peak=meter.at_peak,
        log_errors=logs.errors[:3],
    )


async def warm(extractor: WorkerPool, page: tuple[str, bytes]) -> None:
    """Start the extraction processes and run a page through each (imports, caches)."""
    url, html = page
    await asyncio.gather(*(extractor.extract(html, url) for _ in range(4)))


def one_pipeline(
    kind: str, workdir: Path, options: argparse.Namespace, farm: Served, profiles: Path
) -> PipelineRun:
    """A new config folder and database of `kind`, one measured cycle (in this process)."""
    config_dir = fresh_config(workdir / "config", farm.feed_urls, profiles)
    with database(kind, workdir, options.postgres_dsn) as url:
        return asyncio.run(cycle(config_dir, url, options, farm))


def isolated(
    kind: str, workdir: Path, options: argparse.Namespace, farm: Served, profiles: Path
) -> PipelineRun:
    """one_pipeline in a new process: a fresh start, whose memory is the service's alone
    (not the benchmark's pages and profile sampling)."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn) as executor:
        return executor.submit(one_pipeline, kind, workdir, options, farm, profiles).result()


def measure(options: argparse.Namespace) -> tuple[list[limit.LimitRun], dict[str, list[Any]]]:
    """Interleaved runs: limit, pipeline on each database, repeated --runs times."""
    spec = limit.farm_spec(options.feeds, options.entries, options.delay)
    pages = limit.served_pages(spec)
    options.warm_page = pages[0]
    limits: list[limit.LimitRun] = []
    pipelines: dict[str, list[PipelineRun]] = {kind: [] for kind in options.databases}
    with Farm(spec) as farm, tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        served = Served(farm.feed_urls, spec.entries, farm.pid)
        profiles = Path(tmp) / "bench-profiles"
        options.terms = bench_profiles(profiles, [html for _, html in pages])
        for number in range(options.runs):
            limits.append(limit.measure(pages))
            print(f"run {number + 1}: limit {limits[-1].pages_per_hour:,.0f} pages/h", end="")
            for kind in options.databases:
                workdir = Path(tmp) / f"run{number}-{kind}"
                result = isolated(kind, workdir, options, served, profiles)
                pipelines[kind].append(result)
                print(f", {kind} {result.articles_per_hour:,.0f} articles/h", end="", flush=True)
            print()
    return limits, dict(pipelines)


def ratios(limits: list[limit.LimitRun], runs: list[PipelineRun]) -> Spread:
    """Pipeline articles/h over the limit's pages/h of the same run, in per cent."""
    return Spread.of(
        100 * p.articles_per_hour / lim.pages_per_hour for p, lim in zip(runs, limits, strict=True)
    )


def cpu_ratios(limits: list[limit.LimitRun], runs: list[PipelineRun]) -> Spread:
    """The limit's CPU per page over the pipeline's CPU per article, in per cent: the ratio
    the two would have if both kept every core busy (robust to other load on the host)."""
    return Spread.of(
        100 * lim.cpu_ms_per_page / p.cpu_ms_per_article
        for p, lim in zip(runs, limits, strict=True)
    )


def figures(limits: list[limit.LimitRun], pipelines: dict[str, list[PipelineRun]]) -> list[Figure]:
    out = limit.figures(limits)[:1]
    for kind, runs in pipelines.items():
        ratio = ratios(limits, runs)  # in per cent: the table shows one decimal
        rss = Spread.of(r.peak_rss_mb for r in runs)
        out += [
            Figure(f"pipeline {kind}", Spread.of(r.articles_per_hour for r in runs), "articles/h"),
            Figure(
                f"pipeline {kind} / limit",
                ratio,
                "%",
                target=f">= {TARGET_RATIO:.0%}",
                ok=ratio.median >= TARGET_RATIO * 100,
                note="articles/h of the pipeline over pages/h of extraction alone, same run",
            ),
            Figure(
                f"pipeline {kind} / limit, CPU",
                cpu_ratios(limits, runs),
                "%",
                note="limit CPU/page over pipeline CPU/article (main + workers): the ratio "
                "without waits and other load",
            ),
            Figure(
                f"pipeline {kind}: peak memory",
                rss,
                "MB",
                target=f"<= {TARGET_MB}",
                ok=rss.median <= TARGET_MB,
                note="summed RSS of the service's process and its extraction processes",
            ),
            Figure(
                f"pipeline {kind}: peak memory, PSS",
                Spread.of(r.peak_pss_mb for r in runs),
                "MB",
                note="the same processes' summed PSS: shared pages counted once",
            ),
            Figure(
                f"pipeline {kind}: main-process CPU per article",
                Spread.of(r.main_cpu / max(r.entries_new, 1) * 1000 for r in runs),
                "ms",
                note="fetch, parse, match, store, deliver and the hand-off to the workers",
            ),
        ]
    return out


def stage_table(runs: list[PipelineRun]) -> dict[str, dict[str, float]]:
    """Per stage: median share of the summed stage time, seconds and calls."""
    table: dict[str, dict[str, float]] = {}
    for stage in STAGES:
        present = [r for r in runs if stage in r.stages]
        if present:
            table[stage] = {
                "share": statistics.median(r.shares()[stage] for r in present),
                "seconds": statistics.median(r.stages[stage]["seconds"] for r in present),
                "calls": statistics.median(r.stages[stage]["calls"] for r in present),
            }
    return table


def print_stages(kind: str, runs: list[PipelineRun]) -> None:
    print(f"\n{kind}: share of summed stage wall time (concurrent work adds up; medians)")
    for stage, row in stage_table(runs).items():
        per_call = row["seconds"] / max(row["calls"], 1) * 1000
        print(
            f"  {stage:14} {row['share']:6.1%}  {row['seconds']:9.1f} s  "
            f"{row['calls']:6.0f} calls  {per_call:8.1f} ms/call"
        )
    cpu = {
        "main": statistics.median(r.main_cpu for r in runs),
        "extraction workers": statistics.median(r.worker_cpu for r in runs),
        "farm": statistics.median(r.farm_cpu for r in runs),
    }
    print("  CPU seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()))
    last = runs[-1]
    at_peak = ", ".join(f"{name} {mb:.0f}" for name, mb in last.rss_at_peak.items())
    print(f"  RSS MB at the peak: {at_peak} (sum {last.start_rss_mb:.0f} as the cycle began)")
    print(
        f"  stored {last.stored} of {last.served} served entries, {last.hits} hits, "
        f"{last.alerts_created} alerts created, {last.alerts_sent} sent to the log channel"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--feeds", type=int, default=20, help="farm feeds (default 20)")
    parser.add_argument("--entries", type=int, default=25, help="entries per feed (default 25)")
    parser.add_argument("--delay", type=float, default=0.1, help="seconds before each response")
    parser.add_argument("--runs", type=int, default=2, help="interleaved runs (default 2)")
    parser.add_argument("--concurrency", type=int, default=16, help="fetch.concurrency")
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql"
    )
    parser.add_argument("--postgres-dsn", default=ADMIN_DSN, help="admin DSN of the server")
    parser.add_argument("--quick", action="store_true", help="6 feeds x 4 entries, 1 run")


def prepare(options: argparse.Namespace) -> list[str]:
    """Apply --quick and pick the databases; the lines saying what runs."""
    if options.quick:
        options.feeds, options.entries, options.runs = 6, 4, 1
    options.databases = [kind for kind in ("sqlite", "postgresql") if kind in options.databases]
    reason = "postgresql" in options.databases and postgres_unavailable(options.postgres_dsn)
    if reason:
        options.databases.remove("postgresql")
    return [
        f"farm: {options.feeds} feeds x {options.entries} entries, delay {options.delay} s, "
        f"{limit.page_source()}",
        f"fetch.concurrency = fetch.per_host = {options.concurrency} (one host: the farm); "
        "alerts.max_age 3650d; alerts go to the log channel",
        *([f"PostgreSQL: skipped, {reason}"] if reason else []),
    ]


def run(options: argparse.Namespace) -> dict[str, Any]:
    lines = prepare(options)
    print("\n".join(lines))
    limits, pipelines = measure(options)
    for kind, runs in pipelines.items():
        print_stages(kind, runs)
    return {
        "name": NAME,
        "figures": [f.as_dict() for f in figures(limits, pipelines)],
        "details": {
            "setup": lines,
            "terms": options.terms,
            "limit_runs": [asdict(r) | {"pages_per_hour": r.pages_per_hour} for r in limits],
            "pipeline_runs": {
                kind: [asdict(r) | {"articles_per_hour": r.articles_per_hour} for r in runs]
                for kind, runs in pipelines.items()
            },
            "stage_shares": {kind: stage_table(runs) for kind, runs in pipelines.items()},
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    report(NAME, "Whole pipeline vs the limit", run(parser.parse_args()))


if __name__ == "__main__":
    main()
