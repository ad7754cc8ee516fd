"""A peer: the `reader` library updating the same farm feeds as our fetch-parse-store.

The farm runs with `links=False`: every entry carries its text, so our pipeline matches and
stores it without fetching or extracting a page, which is the closest to what reader does
(fetch, parse, store; reader neither extracts nor matches). Each round, in alternating order:

- reader: `make_reader(<fresh SQLite file>)`, `add_feed` for every farm feed, then
  `update_feeds_iter(workers=N, scheduled=False)` twice: a fresh cycle (every entry new) and a
  quiet cycle (the farm answers 304 to the ETag reader stored);
- ours: `Service.cycle(everything=True)` twice over a fresh config folder and SQLite database
  (the 1,000 benchmark terms in one profile), with the fetcher and the worker pool started
  before the clock, as in the running service: fresh, then quiet (304s);
- ours without profiles: the same with no profile to match (fetch, parse, language and
  story signature, store): our fetch-parse-store part alone;
- ours by run_once: the fresh cycle of `monitor run --once`, which also starts the pool.

Reported: feeds/s and entries/s (fresh), polls/s (quiet) for each, and ours ÷ reader within
each round. Target: ours faster than reader in both cycles.

    .venv/bin/python -m benchmarks.peer [--quick] [--feeds 50] [--entries 20] [--runs 3]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reader import Reader, make_reader
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from benchmarks.common import Figure, Spread, report
from benchmarks.farm import Farm, FarmSpec
from benchmarks.naive import OurRun, our_service, sample_terms, timed_cycle, warm_cycle
from monitor.store import feeds
from monitor.store.tables import EntryRow

NAME = "peer"


@dataclass(frozen=True, slots=True)
class Cycle:
    """One update of every feed, as one side saw it."""

    wall: float  # seconds
    cpu: float  # seconds of this process (threads included)
    feeds: int  # feeds polled
    entries: int  # new entries stored
    not_modified: int  # feeds found unchanged (reader: not_modified; ours: last_status)
    errors: int
    requests: int  # answered by the farm


@dataclass
class Side:
    fresh: list[Cycle] = field(default_factory=list)
    quiet: list[Cycle] = field(default_factory=list)
    stored: list[int] = field(default_factory=list)  # entries in the database after both

    def add(self, fresh: Cycle, quiet: Cycle, stored: int) -> None:
        self.fresh.append(fresh)
        self.quiet.append(quiet)
        self.stored.append(stored)


def reader_cycles(farm: Farm, workers: int) -> tuple[Cycle, Cycle, int]:
    """reader over a fresh database: the fresh cycle, the quiet one, and entries stored."""
    with tempfile.TemporaryDirectory(prefix="bench-reader-") as tmp:
        reader = make_reader(str(Path(tmp) / "reader.sqlite"))
        try:
            for url in farm.feed_urls:
                reader.add_feed(url)
            fresh = _reader_cycle(reader, farm, workers)
            quiet = _reader_cycle(reader, farm, workers)
            stored = reader.get_entry_counts().total or 0
        finally:
            reader.close()
    return fresh, quiet, stored


def _reader_cycle(reader: Reader, farm: Farm, workers: int) -> Cycle:
    before = farm.requests()
    wall, cpu = time.perf_counter(), time.process_time()
    results = list(reader.update_feeds_iter(workers=workers, scheduled=False))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Cycle(
        wall=wall,
        cpu=cpu,
        feeds=len(results),
        entries=sum(r.updated_feed.new for r in results if r.updated_feed),
        not_modified=sum(bool(r.not_modified) for r in results),
        errors=sum(r.error is not None for r in results),
        requests=farm.requests() - before,
    )


def our_cycles(
    farm: Farm, terms: list[str], concurrency: int, *, warm: bool = True
) -> tuple[Cycle, Cycle, int]:
    """Our service over a fresh database: the fresh cycle, the quiet one, entries stored.
    `warm`: the pool is started before the clock (the running service); else run_once.
    No terms: no profile."""
    cycle = warm_cycle if warm else timed_cycle
    with our_service(farm.feed_urls, terms, concurrency=concurrency, workers=0) as service:
        fresh = _our_cycle(cycle(service, farm), service.engine)
        quiet = _our_cycle(cycle(service, farm), service.engine)
        with Session(service.engine) as session:
            stored = session.exec(select(func.count()).select_from(EntryRow)).one()
    return fresh, quiet, stored


def _our_cycle(run: OurRun, engine: Engine) -> Cycle:
    report = run.report
    statuses = [row.last_status for row in feeds.feed_rows(engine).values()]
    return Cycle(
        wall=run.wall,
        cpu=run.cpu,
        feeds=report.feeds_polled,
        entries=report.entries_new,
        not_modified=statuses.count("not_modified"),
        errors=report.feeds_failed,
        requests=run.requests,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="10 feeds × 10 entries, 1 round")
    parser.add_argument("--feeds", type=int, default=None, help="farm feeds (default 50)")
    parser.add_argument("--entries", type=int, default=None, help="entries per feed (20)")
    parser.add_argument("--runs", type=int, default=None, help="rounds (default 3)")
    parser.add_argument("--delay", type=float, default=0.0, help="farm delay, s (default 0)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=16,
        help="our fetch.concurrency = fetch.per_host, and reader's workers (default 16)",
    )
    parser.add_argument("--output", type=Path, default=None, help="JSON result file")


def sgmllib_for_reader() -> str | None:
    """reader vendors a feedparser that imports `sgmllib` (the sgmllib3k package), but the
    feedparser we install ships the same module as `feedparser_sgmllib`: without sgmllib3k,
    every reader update fails with ModuleNotFoundError. Register the module under the name
    reader's copy imports; what was done, for the output (None: nothing was needed)."""
    if importlib.util.find_spec("sgmllib") is not None:
        return None
    sys.modules["sgmllib"] = importlib.import_module("feedparser_sgmllib")
    return "sgmllib3k is not installed: feedparser_sgmllib registered as sgmllib for reader"


def run(options: argparse.Namespace) -> dict[str, Any]:
    shim = sgmllib_for_reader()
    feeds = options.feeds or (10 if options.quick else 50)
    entries = options.entries or (10 if options.quick else 20)
    rounds = options.runs or (1 if options.quick else 3)
    terms = sample_terms().terms
    names = ("reader", "ours", "ours, no profiles", "ours, run_once")
    sides = {name: Side() for name in names}
    # One farm for every run: it never advances, and each run starts from an empty database.
    with Farm(FarmSpec(feeds, entries, delay=options.delay, links=False)) as farm:
        for round_no in range(rounds):
            order = list(sides) if round_no % 2 == 0 else list(reversed(sides))
            for name in order:
                if name == "reader":
                    sides[name].add(*reader_cycles(farm, options.concurrency))
                else:
                    sides[name].add(
                        *our_cycles(
                            farm,
                            [] if name == "ours, no profiles" else terms,
                            options.concurrency,
                            warm=name != "ours, run_once",
                        )
                    )
    result = _result(options, feeds, entries, sides)
    result["details"]["sgmllib"] = shim or "sgmllib importable"
    return result


def _per_second(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def _result(
    options: argparse.Namespace, feeds: int, entries: int, sides: dict[str, Side]
) -> dict[str, Any]:
    reader = sides["reader"]

    def spread(side: Side, cycle: str, what: str) -> Spread:
        runs: list[Cycle] = getattr(side, cycle)
        return Spread.of(_per_second(getattr(c, what), c.wall) for c in runs)

    def ratio(ours: Side, cycle: str) -> Spread:
        pairs = zip(getattr(ours, cycle), getattr(reader, cycle), strict=True)
        return Spread.of(r.wall / max(o.wall, 1e-9) for o, r in pairs)

    figures = [Figure("reader fresh", spread(reader, "fresh", "entries"), "entries/s")]
    for name, side in sides.items():
        if name == "reader":
            continue
        fresh = ratio(side, "fresh")
        target = name == "ours"  # the others say where the difference goes
        figures += [
            Figure(f"{name} fresh", spread(side, "fresh", "entries"), "entries/s"),
            Figure(
                f"{name} ÷ reader, fresh",
                fresh,
                "×",
                "> 1×" if target else None,
                fresh.median > 1 if target else None,
                "per round",
            ),
        ]
    quiet = ratio(sides["ours"], "quiet")
    figures += [
        Figure("reader quiet (304)", spread(reader, "quiet", "feeds"), "polls/s"),
        Figure("ours quiet (304)", spread(sides["ours"], "quiet", "feeds"), "polls/s"),
        Figure("ours ÷ reader, quiet", quiet, "×", "> 1×", quiet.median > 1, "per round"),
    ]
    details = {
        "farm": {"feeds": feeds, "entries": entries, "delay_s": options.delay, "links": False},
        "concurrency": f"fetch.concurrency = fetch.per_host = reader workers = "
        f"{options.concurrency}",
        "sides": {name: _side_details(side) for name, side in sides.items()},
    }
    return {"name": NAME, "figures": [f.as_dict() for f in figures], "details": details}


def _side_details(side: Side) -> dict[str, Any]:
    def cycle(c: Cycle) -> dict[str, Any]:
        return {
            "wall_s": c.wall,
            "cpu_s": c.cpu,
            "feeds": c.feeds,
            "entries_new": c.entries,
            "not_modified": c.not_modified,
            "errors": c.errors,
            "farm_requests": c.requests,
        }

    return {
        "fresh": [cycle(c) for c in side.fresh],
        "quiet": [cycle(c) for c in side.quiet],
        "entries_stored": side.stored,
    }


def _print_details(result: dict[str, Any]) -> None:
    details = result["details"]
    farm = details["farm"]
    print(f"reader's sgmllib: {details['sgmllib']}")
    print(
        f"farm: {farm['feeds']} feeds × {farm['entries']} entries, links=False, "
        f"delay {farm['delay_s'] * 1000:g} ms; {details['concurrency']} (the farm is one host)"
    )
    for side, found in details["sides"].items():
        fresh, quiet = found["fresh"][-1], found["quiet"][-1]
        print(
            f"{side}: stored {found['entries_stored'][-1]} entries; fresh CPU "
            f"{fresh['cpu_s'] * 1000 / max(fresh['feeds'], 1):.1f} ms/feed, quiet CPU "
            f"{quiet['cpu_s'] * 1000 / max(quiet['feeds'], 1):.2f} ms/poll; "
            f"quiet cycle: {quiet['entries_new']} new, {quiet['farm_requests']} requests"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description="reader against our fetch-parse-store.")
    add_arguments(parser)
    options = parser.parse_args()
    result = run(options)
    title = "peer: reader vs our fetch-parse-store"
    report(NAME, title, result, options.output, _print_details)


if __name__ == "__main__":
    main()
