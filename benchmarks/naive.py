"""The naive baseline a user would write, against our pipeline on the same feed farm.

The naive loop, sequential: `feedparser.parse(url)` for each farm feed; for each entry the
page fetched with urllib, `trafilatura.extract` on it, and one `re.search(r"\\b…\\b", text,
re.I)` per term for 1,000 terms. Our pipeline: `run_once(service, everything=True)` over a fresh
config folder and SQLite database with the same feeds and one profile holding the same 1,000
terms as a `match: {any: [...]}` list. Both run interleaved (order alternating per round) on
the same farm, once with the farm's delay (default 100 ms before every response) and once
with no delay; the ratio ours ÷ naive is taken within each round. Target: ≥ 5× at 100 ms, for
the warm cycle (workers already running, as in the long-running service); run_once, which
also starts the workers, is shown beside it.

    .venv/bin/python -m benchmarks.naive [--quick] [--feeds 8] [--entries 10] [--runs 3]

The 1,000 terms come from `sample_terms()`, which uses the pipeline benchmark's sampler
(benchmarks.profiles_1000) on the pages the farm serves. Without ../shared/corpus, terms and
pages are synthetic (the output says so).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import feedparser
import trafilatura

from benchmarks import profiles_1000
from benchmarks.common import (
    CORPUS,
    Figure,
    Spread,
    corpus_pages,
    report,
)
from benchmarks.farm import Farm, FarmSpec, synthetic_page
from monitor.config.settings import load_settings
from monitor.ingest.fetch import Fetcher
from monitor.ingest.pool import WorkerPool
from monitor.runtime.cyclereport import CycleReport
from monitor.runtime.lifecycle import run_once
from monitor.runtime.service import Service
from monitor.store.engine import open_engine, upgrade

NAME = "naive"
SEED = 20261101
TERM_COUNT = 1_000
TARGET_RATIO = 5.0  # ours ÷ naive, with the farm's 100 ms delay
_WARM_PAGE = b"<html><body><article><p>Workers warming up.</p></article></body></html>"


class TermSample(NamedTuple):
    terms: list[str]
    source: str  # where the terms came from, for the output


# ---------------------------------------------------------------------------------------------
# The 1,000 terms


def sample_terms(count: int = TERM_COUNT, *, synthetic: bool = False) -> TermSample:
    """`count` terms sampled from the pages the farm serves, by the pipeline benchmark's
    sampler (benchmarks.profiles_1000: seeded, each term found in few pages), so the naive
    loop and our profile search for the same phrases; padded with made-up words when the
    pages hold too few."""
    pages = [] if synthetic else [body for _, body in corpus_pages()]
    source = f"the {len(pages)} corpus pages (benchmarks.profiles_1000)"
    if not pages:
        pages = [synthetic_page(n) for n in range(50)]
        source = "SYNTHETIC pages (no ../shared/corpus; benchmarks.profiles_1000)"
    terms = profiles_1000.sample_terms(pages, count)
    missing = count - len(terms)
    if missing > 0:
        terms += _synthetic_terms(missing, random.Random(SEED), set(terms))
        source += f", {missing} made-up words added"
    return TermSample(terms, source)


def _synthetic_terms(count: int, rng: random.Random, taken: set[str]) -> list[str]:
    terms: list[str] = []
    seen = set(taken)
    while len(terms) < count:
        word = "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(3))
        if word not in seen:
            seen.add(word)
            terms.append(word)
    return terms


# ---------------------------------------------------------------------------------------------
# The naive loop


@dataclass
class NaiveRun:
    wall: float = 0.0  # seconds
    cpu: float = 0.0  # seconds of this process
    feeds: int = 0
    articles: int = 0
    matched: int = 0  # articles with at least one term found
    requests: int = 0  # answered by the farm during the run
    stages: dict[str, float] = field(default_factory=dict)  # seconds (wall) per step

    def add(self, stage: str, seconds: float) -> None:
        self.stages[stage] = self.stages.get(stage, 0.0) + seconds


@contextmanager
def _timed(run: NaiveRun, stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        run.add(stage, time.perf_counter() - started)


def naive_loop(feed_urls: Sequence[str], terms: Sequence[str]) -> NaiveRun:
    """What a user would write first: everything in sequence, a regex per term."""
    run = NaiveRun()
    wall, cpu = time.perf_counter(), time.process_time()
    for url in feed_urls:
        with _timed(run, "feed fetch+parse"):
            feed = feedparser.parse(url)
        run.feeds += 1
        for entry in feed.entries:
            with _timed(run, "page fetch"), _open(entry.link) as answer:
                html = answer.read()
            with _timed(run, "extract"):
                text = trafilatura.extract(html) or ""
            with _timed(run, "regex per term"):
                found = [t for t in terms if re.search(rf"\b{re.escape(t)}\b", text, re.I)]
            run.articles += 1
            run.matched += bool(found)
    run.wall = time.perf_counter() - wall
    run.cpu = time.process_time() - cpu
    return run


def _open(url: str) -> Any:
    return urllib.request.urlopen(url, timeout=60)  # noqa: S310  (the farm on 127.0.0.1)


# ---------------------------------------------------------------------------------------------
# Our pipeline (shared with benchmarks.peer)


def write_config(
    folder: Path, feed_urls: Sequence[str], terms: Sequence[str], *, concurrency: int, workers: int
) -> Path:
    """A config folder: the feeds, one profile `bench` with the terms as `match: {any}` (none
    without terms), and
    fetch.per_host = fetch.concurrency (the farm is one host)."""
    config = folder / "config"
    (config / "profiles").mkdir(parents=True)
    feeds = {"feeds": [{"url": url} for url in feed_urls]}
    (config / "feeds.yaml").write_text(json.dumps(feeds), encoding="utf-8")
    if terms:  # none: no profile at all (the peer benchmark's fetch-parse-store alone)
        profile = {"description": "benchmark terms", "match": {"any": list(terms)}}
        (config / "profiles" / "bench.yaml").write_text(json.dumps(profile), encoding="utf-8")
    settings = {
        # one host (the farm): no per-host page budget, no per-poll page cap
        "fetch": {
            "concurrency": concurrency,
            "per_host": concurrency,
            "max_pages_per_host": 0,
            "max_pages_per_poll": 0,
        },
        "cycle_deadline": "24h",
        "extract": {"workers": workers},
    }
    (config / "monitor.yaml").write_text(json.dumps(settings), encoding="utf-8")
    return config


@contextmanager
def our_service(
    feed_urls: Sequence[str], terms: Sequence[str], *, concurrency: int, workers: int
) -> Iterator[Service]:
    """A Service over a fresh temporary config folder and SQLite database."""
    with tempfile.TemporaryDirectory(prefix="bench-ours-") as tmp:
        folder = Path(tmp)
        config = write_config(folder, feed_urls, terms, concurrency=concurrency, workers=workers)
        database = f"sqlite:///{folder / 'monitor.db'}"
        settings = load_settings(config, env={"MONITOR_DATABASE_URL": database})
        engine = open_engine(settings.database_url)
        try:
            upgrade(engine)
            yield Service(config, settings, engine)
        finally:
            engine.dispose()


@dataclass(frozen=True, slots=True)
class OurRun:
    wall: float  # seconds of run_once, extraction workers' start included
    cpu: float  # seconds of this process (the workers' CPU is not in it)
    report: CycleReport
    requests: int


def timed_cycle(service: Service, farm: Farm) -> OurRun:
    """One `run_once(everything=True)`, timed: the fetcher and the extraction workers start
    inside it, as for `monitor run --once`."""
    before = farm.requests()
    wall, cpu = time.perf_counter(), time.process_time()
    report = asyncio.run(run_once(service, everything=True))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return OurRun(wall, cpu, report, farm.requests() - before)


def warm_cycle(service: Service, farm: Farm) -> OurRun:
    """One `Service.cycle(everything=True)` with the fetcher open and the extraction workers
    started and used once before the clock starts, as in `run_forever`."""
    return asyncio.run(_warm_cycle(service, farm))


async def _warm_cycle(service: Service, farm: Farm) -> OurRun:
    workers = service.settings.extract.workers or os.cpu_count() or 1
    async with (
        Fetcher(service.settings.fetch) as fetcher,
        WorkerPool(service.settings.extract) as pool,
    ):
        warm_up = (pool.extract(_WARM_PAGE, f"{farm.base}/warm") for _ in range(2 * workers))
        await asyncio.gather(*warm_up)
        before = await asyncio.to_thread(farm.requests)
        wall, cpu = time.perf_counter(), time.process_time()
        report = await service.cycle(fetcher, pool, everything=True)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        after = await asyncio.to_thread(farm.requests)
    return OurRun(wall, cpu, report, after - before)


def pipeline_once(
    farm: Farm, terms: Sequence[str], *, concurrency: int, workers: int, warm: bool = False
) -> OurRun:
    """Our pipeline over a fresh database: every entry of the farm is new."""
    with our_service(farm.feed_urls, terms, concurrency=concurrency, workers=workers) as service:
        return warm_cycle(service, farm) if warm else timed_cycle(service, farm)


# ---------------------------------------------------------------------------------------------
# The benchmark


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="3 feeds × 4 entries, 1 round")
    parser.add_argument("--feeds", type=int, default=None, help="farm feeds (default 8)")
    parser.add_argument("--entries", type=int, default=None, help="entries per feed (10)")
    parser.add_argument("--runs", type=int, default=None, help="rounds (default 3)")
    parser.add_argument("--delay", type=float, default=0.1, help="farm delay, s (0 also runs)")
    parser.add_argument("--terms", type=int, default=TERM_COUNT, help="terms (default 1,000)")
    parser.add_argument("--concurrency", type=int, default=16, help="fetch.concurrency/per_host")
    parser.add_argument("--workers", type=int, default=0, help="extraction workers (0: cores)")
    parser.add_argument("--synthetic", action="store_true", help="synthetic pages")
    parser.add_argument("--output", type=Path, default=None, help="JSON result file")


def _sizes(options: argparse.Namespace) -> tuple[int, int, int]:
    quick = bool(options.quick)
    feeds = options.feeds or (3 if quick else 8)
    entries = options.entries or (4 if quick else 10)
    runs = options.runs or (1 if quick else 3)
    return feeds, entries, runs


def _delays(options: argparse.Namespace) -> list[float]:
    return sorted({float(options.delay), 0.0}, reverse=True)


@dataclass
class Runs:
    """Every measured run at one farm delay, in the order they ran."""

    naive: list[NaiveRun] = field(default_factory=list)
    cold: list[OurRun] = field(default_factory=list)  # run_once
    warm: list[OurRun] = field(default_factory=list)  # cycle with workers already started


STEPS = ("naive", "cold", "warm")


def run(options: argparse.Namespace) -> dict[str, Any]:
    feeds, entries, rounds = _sizes(options)
    sample = sample_terms(options.terms, synthetic=options.synthetic)
    found: dict[float, Runs] = {delay: Runs() for delay in _delays(options)}
    with ExitStack() as stack:
        farms = {
            delay: stack.enter_context(
                Farm(FarmSpec(feeds, entries, delay=delay, synthetic=options.synthetic))
            )
            for delay in found
        }
        for round_no in range(rounds):
            for index, (delay, farm) in enumerate(farms.items()):
                shift = (round_no + index) % len(STEPS)  # rotate the order between rounds
                for step in STEPS[shift:] + STEPS[:shift]:
                    _step(step, farm, sample.terms, options, found[delay])
    return _result(options, feeds * entries, sample, found)


def _step(
    step: str, farm: Farm, terms: Sequence[str], options: argparse.Namespace, runs: Runs
) -> None:
    if step == "naive":
        before = farm.requests()
        result = naive_loop(farm.feed_urls, terms)
        result.requests = farm.requests() - before
        runs.naive.append(result)
        return
    ours = pipeline_once(
        farm,
        terms,
        concurrency=options.concurrency,
        workers=options.workers,
        warm=step == "warm",
    )
    (runs.warm if step == "warm" else runs.cold).append(ours)


def _per_hour(count: int, seconds: float) -> float:
    return count / seconds * 3600 if seconds > 0 else 0.0


def _rate(run: NaiveRun | OurRun) -> float:
    if isinstance(run, NaiveRun):
        return _per_hour(run.articles, run.wall)
    return _per_hour(run.report.entries_new, run.wall)


def _result(
    options: argparse.Namespace, served: int, sample: TermSample, found: dict[float, Runs]
) -> dict[str, Any]:
    figures: list[Figure] = []
    details: dict[str, Any] = {
        "articles_served": served,
        "terms": len(sample.terms),
        "terms_source": sample.source,
        "pages": "synthetic" if options.synthetic or not CORPUS.is_dir() else "corpus",
        "fetch": f"fetch.concurrency = fetch.per_host = {options.concurrency}",
        "extract_workers": options.workers or "one per core",
        "delays": {},
    }
    for delay, runs in found.items():
        label = f"delay {delay * 1000:g} ms"
        figures += _delay_figures(label, runs, with_target=delay >= 0.1)
        details["delays"][label] = _delay_details(runs)
    naive_cpu = [r.cpu / max(r.articles, 1) * 1000 for runs in found.values() for r in runs.naive]
    figures.append(
        Figure("naive CPU per article (parse+extract+regex)", Spread.of(naive_cpu), "ms")
    )
    return {"name": NAME, "figures": [f.as_dict() for f in figures], "details": details}


def _delay_figures(label: str, runs: Runs, *, with_target: bool) -> list[Figure]:
    def ratios(ours: list[OurRun]) -> Spread:
        pairs = zip(ours, runs.naive, strict=True)
        return Spread.of(_rate(o) / max(_rate(n), 1e-9) for o, n in pairs)

    cold, warm = ratios(runs.cold), ratios(runs.warm)
    return [
        Figure(f"naive loop, {label}", Spread.of(map(_rate, runs.naive)), "articles/h"),
        Figure(f"ours run_once, {label}", Spread.of(map(_rate, runs.cold)), "articles/h"),
        Figure(f"ours warm cycle, {label}", Spread.of(map(_rate, runs.warm)), "articles/h"),
        Figure(
            f"ours ÷ naive (run_once), {label}",
            cold,
            "×",
            note="per round; includes starting the extraction workers (1-3 s)",
        ),
        Figure(
            f"ours ÷ naive (warm cycle), {label}",
            warm,
            "×",
            target=f"≥ {TARGET_RATIO:g}×" if with_target else None,
            ok=warm.median >= TARGET_RATIO if with_target else None,
            note="per round; workers running, as in the service",
        ),
    ]


def _delay_details(runs: Runs) -> dict[str, Any]:
    return {
        "naive": [
            {
                "wall_s": r.wall,
                "cpu_s": r.cpu,
                "feeds": r.feeds,
                "articles": r.articles,
                "articles_matched": r.matched,
                "farm_requests": r.requests,
                "stage_wall_s": r.stages,
            }
            for r in runs.naive
        ],
        "ours_run_once": [_our_details(r) for r in runs.cold],
        "ours_warm_cycle": [_our_details(r) for r in runs.warm],
    }


def _our_details(run: OurRun) -> dict[str, Any]:
    return {
        "wall_s": run.wall,
        "cpu_main_s": run.cpu,
        "cycle_ms": run.report.duration_ms,
        "feeds_polled": run.report.feeds_polled,
        "feeds_failed": run.report.feeds_failed,
        "entries_new": run.report.entries_new,
        "hits": run.report.hits,
        "farm_requests": run.requests,
        "stages": run.report.stages,
    }


def _print_details(result: dict[str, Any]) -> None:
    details = result["details"]
    print(f"terms: {details['terms']} from {details['terms_source']}; pages: {details['pages']}")
    print(
        f"{details['fetch']} (set equal: the farm is one host); "
        f"extraction workers: {details['extract_workers']}"
    )
    for label, runs in details["delays"].items():
        naive, ours = runs["naive"][-1], runs["ours_run_once"][-1]
        spent = ", ".join(f"{k} {v:.1f} s" for k, v in naive["stage_wall_s"].items())
        print(
            f"{label}: naive saw {naive['articles']} articles ({naive['articles_matched']} "
            f"with a term), ours stored {ours['entries_new']} ({ours['hits']} hits); "
            f"naive wall: {spent}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description="The naive baseline against our pipeline.")
    add_arguments(parser)
    options = parser.parse_args()
    result = run(options)
    report(NAME, "naive baseline vs our pipeline", result, options.output, _print_details)


if __name__ == "__main__":
    main()
