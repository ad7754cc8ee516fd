"""Evidence (docs/evidence.md): what keeping hit articles' pages costs in storage, what a
re-check costs in CPU, and the share of a cycle the re-checks take with 10,000 hits due.

The real Service polls a feed farm on 127.0.0.1 (N feeds x M entries, each entry linking to a
corpus article page; synthetic pages without ../shared/corpus) on SQLite with one profile
that matches every page, so every article is a hit and keeps its page. Then:

- storage: the evidence folder's WARC files per distinct body kept, scaled to 1,000 hit
  articles with distinct pages, beside the pages' own bytes (the compression), and the
  extracted text the evidence table keeps per article;
- CPU per re-check: every watched article made due, one re-check pass (evidence.per_cycle,
  200 by default) measured with the extraction workers' CPU: fetch, extraction, comparison,
  the body kept (the farm's pages do not change, so each is an unchanged version: the
  common case) and the version recorded;
- share of a cycle: every article due again, one whole cycle polling every feed (they
  answer 304, as most feeds do most of the time; the re-check pass is bounded by
  evidence.per_cycle) and the re-check stage's share of it.

    .venv/bin/python -m benchmarks.evidence             # 50 feeds x 200 entries: minutes
    .venv/bin/python -m benchmarks.evidence --quick     # 4 feeds x 10 entries
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, update

from benchmarks import limit
from benchmarks.common import Figure, Spread, report
from benchmarks.farm import Farm
from benchmarks.instance import Meter, MonitorLogs, fresh_config
from benchmarks.pipeline import bench_env
from monitor.config.settings import load_settings
from monitor.ingest.fetch import Fetcher
from monitor.ingest.pool import WorkerPool
from monitor.runtime.service import Service
from monitor.store.engine import open_engine, upgrade
from monitor.store.tables import EvidenceRow, EvidenceWatchRow

NAME = "evidence"
EVERYTHING = "description: every page (the evidence benchmark)\nquery: the OR internet OR 的\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--feeds", type=int, default=50, help="farm feeds (default 50)")
    parser.add_argument("--entries", type=int, default=200, help="entries per feed (default 200)")
    parser.add_argument("--concurrency", type=int, default=16, help="fetch.concurrency")
    parser.add_argument("--per-cycle", type=int, default=200, help="evidence.per_cycle")
    parser.add_argument("--quick", action="store_true", help="4 feeds x 10 entries, 20 a cycle")
    parser.add_argument("--output", type=Path, help="the JSON result file")


def run(options: argparse.Namespace) -> dict[str, Any]:
    if options.quick:
        options.feeds, options.entries, options.per_cycle = 4, 10, 20
    spec = limit.farm_spec(options.feeds, options.entries)
    print(
        f"farm: {options.feeds} feeds x {options.entries} entries, {limit.page_source()}; "
        f"SQLite; evidence.per_cycle {options.per_cycle}"
    )
    with Farm(spec) as farm, tempfile.TemporaryDirectory(prefix="bench-evidence-") as tmp:
        config_dir = fresh_config(Path(tmp) / "config", farm.feed_urls)
        for shipped in (config_dir / "profiles").glob("*.yaml"):
            shipped.unlink()
        (config_dir / "profiles" / "everything.yaml").write_text(EVERYTHING, encoding="utf-8")
        env = bench_env(f"sqlite:///{Path(tmp) / 'monitor.db'}", options.concurrency)
        env |= {
            "MONITOR_EVIDENCE_DIR": str(Path(tmp) / "evidence"),
            "MONITOR_EVIDENCE_PER_CYCLE": str(options.per_cycle),
        }
        measured = asyncio.run(_measure(config_dir, env, farm.pid))
    return {"name": NAME, "figures": [f.as_dict() for f in _figures(measured)], **measured}


async def _measure(config_dir: Path, env: dict[str, str], farm_pid: int | None) -> dict[str, Any]:
    settings = load_settings(config_dir, env=env)
    engine = open_engine(settings.database_url)
    try:
        upgrade(engine)
        service = Service(config_dir, settings, engine)
        async with Fetcher(settings.fetch) as fetcher, WorkerPool(settings.extract) as pool:
            with MonitorLogs() as logs:
                first = await service.cycle(fetcher, pool, everything=True)
                stored = _stored(engine, service.keeping.folder)
                _all_due(engine)
                with Meter(exclude=farm_pid) as meter:
                    checked = await service.recheck(fetcher, pool)
                _all_due(engine)
                cycle = await service.cycle(fetcher, pool, everything=True)  # every feed too
    finally:
        engine.dispose()
    recheck = cycle.stages.get("recheck", {}).get("seconds", 0.0)
    return {
        "hits": first.hits,
        "entries": first.entries_new,
        "first_cycle_seconds": first.duration_ms / 1000,
        **stored,
        "rechecks": checked.checked,
        "recheck_verdicts": dict(checked.verdicts),
        "recheck_main_cpu": meter.main_cpu,
        "recheck_worker_cpu": meter.children_cpu,
        "cycle_seconds": cycle.duration_ms / 1000,
        "cycle_recheck_seconds": recheck,
        "cycle_feeds": cycle.feeds_polled,
        "log_errors": logs.errors[:3],
    }


def _stored(engine: Engine, folder: Path) -> dict[str, Any]:
    """What the evidence holds after the first cycle: files, their bytes, the pages' own
    bytes (one of each distinct body), and the text the evidence table keeps."""
    files = list(folder.rglob("*.warc.gz"))
    table = EvidenceRow.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        versions, text = conn.execute(
            select(func.count(), func.coalesce(func.sum(func.length(table.c.text)), 0))
        ).one()
    return {
        "files": len(files),
        "file_bytes": sum(path.stat().st_size for path in files),
        "versions": int(versions),
        "text_chars": int(text),
    }


def _all_due(engine: Engine) -> None:
    table = EvidenceWatchRow.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(update(table).values(next_at=datetime.now(UTC) - timedelta(seconds=1)))


def _figures(m: dict[str, Any]) -> list[Figure]:
    def one(name: str, value: float, unit: str) -> Figure:
        return Figure(name, Spread(value, value, value, 1), unit, "–", True)

    per_file = m["file_bytes"] / m["files"] if m["files"] else 0.0
    cpu = (m["recheck_main_cpu"] + m["recheck_worker_cpu"]) / m["rechecks"] * 1000
    share = m["cycle_recheck_seconds"] / m["cycle_seconds"] if m["cycle_seconds"] else 0.0
    text = m["text_chars"] / max(m["versions"], 1)
    return [
        one("hit articles kept", m["versions"], "versions"),
        one("WARC files per 1,000 hit articles", per_file * 1000 / 2**20, "MB"),
        one("text kept per 1,000 hit articles", text * 1000 / 2**20, "M chars"),
        one("CPU per re-check (main + extraction)", cpu, "ms"),
        one("re-checks in a cycle (evidence.per_cycle)", m["rechecks"], "re-checks"),
        one("cycle with all hits due (every feed polled)", m["cycle_seconds"], "s"),
        one("feeds polled in it", m["cycle_feeds"], "feeds"),
        one("re-checks' share of that cycle", share, "share"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_arguments(parser)
    options = parser.parse_args(argv)
    result = run(options)
    report(NAME, "evidence: storage and re-checks", result, options.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
