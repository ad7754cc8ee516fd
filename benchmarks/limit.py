"""The limit: raw article extraction of the pages the feed farm serves, on every core.

A process pool of os.cpu_count() workers (forkserver, like the service's pool) runs
trafilatura's `bare_extraction` with the options the service ships
(`monitor.ingest.worker.TRAFILATURA_OPTIONS`) on the page bytes: no fetching, no feed
parsing, no language identification or story signature, no matching, no storage. Pages per
hour of that is the ceiling for the whole pipeline on this machine; `benchmarks.pipeline`
divides its own articles per hour by it, run by run.

    .venv/bin/python -m benchmarks.limit [--feeds 40] [--entries 25] [--runs 3] [--quick]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.common import CORPUS, Figure, Spread, corpus_pages, report
from benchmarks.farm import FarmSpec, _State

NAME = "limit"


@dataclass(frozen=True, slots=True)
class LimitRun:
    """One pass of the pool over the pages."""

    pages: int
    seconds: float  # wall time from the first page handed out to the last result
    cpu_seconds: float  # CPU time the workers spent extracting, summed
    empty: int  # pages trafilatura found no article text in
    failed: int  # pages it raised on (the service falls back to the entry's text)
    workers: int

    @property
    def pages_per_hour(self) -> float:
        return self.pages / self.seconds * 3600

    @property
    def cpu_ms_per_page(self) -> float:
        return self.cpu_seconds / self.pages * 1000


def served_pages(spec: FarmSpec) -> list[tuple[str, bytes]]:
    """(URL path, bytes) of every article page a fresh farm of `spec` links to, in feed
    order: the same bytes the pipeline fetches."""
    state = _State(spec)
    return [
        (f"http://127.0.0.1/a/{feed}/{n}.html", state.page(feed, n))
        for feed in range(spec.feeds)
        for n in range(spec.entries)
    ]


def timed_extract(html: bytes, url: str) -> tuple[str, float]:
    """Raw extraction in a worker: its outcome ('text', 'empty' or 'failed') and CPU seconds.
    trafilatura is imported here, as the service's pool does: the pipeline benchmark's
    measuring process imports this module, and its memory should be the service's."""
    import trafilatura  # noqa: PLC0415

    from monitor.ingest.worker import TRAFILATURA_OPTIONS  # noqa: PLC0415

    started = time.process_time()
    try:
        doc = trafilatura.bare_extraction(html, url=url, **TRAFILATURA_OPTIONS)
        found = isinstance(doc, trafilatura.settings.Document) and bool((doc.text or "").strip())
        outcome = "text" if found else "empty"
    except Exception:  # noqa: BLE001  (the service counts a raising page as a fallback too)
        outcome = "failed"
    return outcome, time.process_time() - started


def pool(workers: int) -> ProcessPoolExecutor:
    """A pool started like the service's (forkserver)."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"))


def warm(executor: ProcessPoolExecutor, page: tuple[str, bytes], workers: int) -> None:
    """Start every worker and run one extraction in each (imports, lazy caches)."""
    futures = [executor.submit(timed_extract, page[1], page[0]) for _ in range(workers * 2)]
    wait(futures)


def measure(pages: list[tuple[str, bytes]], workers: int | None = None) -> LimitRun:
    """Extract every page once on a warmed pool of `workers` processes (default: all cores)."""
    count = workers or os.cpu_count() or 1
    with pool(count) as executor:
        warm(executor, pages[0], count)
        started = time.perf_counter()
        futures = [executor.submit(timed_extract, html, url) for url, html in pages]
        results = [future.result() for future in futures]
        seconds = time.perf_counter() - started
    outcomes = [outcome for outcome, _ in results]
    return LimitRun(
        pages=len(pages),
        seconds=seconds,
        cpu_seconds=sum(cpu for _, cpu in results),
        empty=outcomes.count("empty"),
        failed=outcomes.count("failed"),
        workers=count,
    )


def figures(runs: list[LimitRun]) -> list[Figure]:
    return [
        Figure(
            "limit: extraction on every core",
            Spread.of(r.pages_per_hour for r in runs),
            "pages/h",
            note=f"{runs[0].workers} worker processes, trafilatura alone (the options we ship)",
        ),
        Figure(
            "limit: worker CPU per page",
            Spread.of(r.cpu_ms_per_page for r in runs),
            "ms",
            note="CPU time inside bare_extraction (text and metadata)",
        ),
    ]


def page_count(feeds: int, entries: int, available: int) -> int:
    """How many corpus pages the farm should cycle through so that its feeds link to as many
    distinct pages as possible. The farm picks page (feed x 7919 + n) mod pages; with all
    220 corpus pages 7919 is -1 mod 220, and 40 x 25 entries would show only 64 pages."""

    def distinct(pages: int) -> int:
        return len({(f * 7919 + n) % pages for f in range(feeds) for n in range(entries)})

    return max(range(max(available // 2, 1), available + 1), key=lambda p: (distinct(p), p))


def page_source() -> str:
    return "corpus pages" if CORPUS.is_dir() else "SYNTHETIC pages (no ../shared/corpus)"


def farm_spec(feeds: int, entries: int, delay: float = 0.0) -> FarmSpec:
    """A farm of `feeds` x `entries` linking to as many distinct corpus pages as it can
    (synthetic pages when the corpus is absent)."""
    if not CORPUS.is_dir():
        return FarmSpec(feeds=feeds, entries=entries, delay=delay, synthetic=True)
    pages = page_count(feeds, entries, len(corpus_pages()))
    return FarmSpec(feeds=feeds, entries=entries, delay=delay, pages=pages)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--feeds", type=int, default=40, help="farm feeds (default 40)")
    parser.add_argument("--entries", type=int, default=25, help="entries per feed (default 25)")
    parser.add_argument("--runs", type=int, default=3, help="passes over the pages (default 3)")
    parser.add_argument("--workers", type=int, default=0, help="processes (0: every core)")
    parser.add_argument("--quick", action="store_true", help="6 feeds x 4 entries, 1 run")


def run(options: argparse.Namespace) -> dict[str, Any]:
    if options.quick:
        options.feeds, options.entries, options.runs = 6, 4, 1
    pages = served_pages(farm_spec(options.feeds, options.entries))
    source = page_source()
    distinct = len({id(html) for _, html in pages})
    print(f"limit: {len(pages)} pages ({distinct} distinct, {source}), {options.runs} run(s)")
    runs = [measure(pages, options.workers or None) for _ in range(options.runs)]
    return {
        "name": NAME,
        "figures": [f.as_dict() for f in figures(runs)],
        "details": {
            "pages": len(pages),
            "distinct_pages": distinct,
            "page_source": source,
            "mean_page_bytes": statistics.mean(len(html) for _, html in pages),
            "runs": [asdict(r) | {"pages_per_hour": r.pages_per_hour} for r in runs],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    report(NAME, "Limit: extraction only", run(parser.parse_args()))


if __name__ == "__main__":
    main()
