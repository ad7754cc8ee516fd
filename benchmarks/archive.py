"""Archive benchmark: the web application and search over a large archive.

Builds a synthetic archive (benchmarks.archivegen: distinct articles in English, Simplified
and Traditional Chinese and Russian over two years and 20 feeds, hits on about one article in
ten, computed by the real matcher with the shipped profiles) in a database of its own, then
asks the real application (monitor.web.app.create_app, served by uvicorn on 127.0.0.1 in a
thread of this process, requests over HTTP with keep-alive) for the pages and answers people
use, each `--repeats` times after `--warmups`, and times a backtest of one shipped profile over
the whole archive (monitor.archive.backtest, in process). SQLite and PostgreSQL, one database
at a time: built, measured, dropped.

The build is a bulk load: rows inserted with executemany, 5,000 articles a transaction, the
search index filled by monitor.store.search.add_to_index with the index form of the text the
matcher folded (profiles.candidates.index_text: what the pipeline hands store_article), the
schema made by monitor.store.engine.upgrade. SQLite runs the load with synchronous=OFF;
PostgreSQL loads without the trigram keys' GIN index and creates it afterwards (the statement
of migration 0009), then VACUUM ANALYZE (what autovacuum would have done). Sentences, matching
and folding run in `--workers` processes.

Besides: store_article's cost per article with the search index kept up to date (the index
form made from the match stage's folding, and the insert) and without it (no index form,
add_to_index replaced by a no-op in this process), interleaved on two fresh databases, and
what that difference would cost a pipeline at its 120,000 articles/hour target.

The result's details name the commit and the files of monitor/ changed in the working tree.

    .venv/bin/python -m benchmarks.archive                       # 100,000 articles, both databases
    .venv/bin/python -m benchmarks.archive --quick               # 20,000 articles, 10 repeats
    .venv/bin/python -m benchmarks.archive --articles 1000000 --keep   # build once, reuse after
    .venv/bin/python -m benchmarks.archive --databases sqlite --repeats 5

With --keep the databases stay (/tmp/bench-archive/archive-N.db, PostgreSQL bench_archive_N)
and a later run with the same size and generator version reuses them instead of building.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import quote, urlencode

import psycopg
import uvicorn
from psycopg import sql
from sqlalchemy import Engine, insert, text

from benchmarks.archivegen import (
    FEEDS,
    VERSION,
    Chunk,
    Generator,
    Material,
    Plan,
    anchor_now,
    load_material,
)
from benchmarks.common import REPO, Figure, Spread, report
from benchmarks.instance import ADMIN_DSN, database, fresh_config, postgres_unavailable
from monitor.archive.backtest import backtest
from monitor.models import Article, Entry, FeedSpec, Match
from monitor.profiles.candidates import index_text
from monitor.profiles.files import load_profiles
from monitor.profiles.matcher import folded_fields
from monitor.profiles.profile import Doc
from monitor.store import articles as stored_articles
from monitor.store.engine import open_engine, upgrade
from monitor.store.feeds import feed_rows, sync_feeds
from monitor.store.search import add_to_index
from monitor.store.tables import ArticleRow, EntryRow, HitRow
from monitor.web.app import create_app

NAME = "archive"
DEFAULT_ARTICLES, QUICK_ARTICLES = 100_000, 20_000
FOLDER = Path("/tmp/bench-archive")  # noqa: S108  (the brief's place for big databases)
CHUNK = 5_000  # articles generated and inserted per transaction
PROFILE = "great_firewall"
API_PAGE = 50  # /api/v1/hits' default page size
PIPELINE_TARGET = 120_000  # articles/hour: the pipeline figure of `make bench`
PIPELINE_CORES = 2
GIN_NAME = "ix_article_search_grams"
GIN = f"CREATE INDEX {GIN_NAME} ON article_search USING gin (grams)"


@dataclass(frozen=True, slots=True)
class Probe:
    """One request measured: what it asks and the target its median is held against."""

    label: str
    path: str
    target_ms: int
    page_two: bool = False  # time the page its first answer's next_cursor names
    optional: bool = False  # a 404 means the application has no such page yet: skipped


def probes(profile: str, anchor: datetime, page: int) -> list[Probe]:
    """The requests measured; `page`: the page size of /api/v1/hits (its default is 50)."""
    half_year = (anchor - timedelta(days=180)).strftime("%Y-%m-%dT%H:%M:%SZ")
    year = (anchor - timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
    filters = urlencode({"profile": profile, "language": "zh", "since": half_year})
    if page != API_PAGE:
        filters += f"&limit={page}"
    out = [
        Probe("GET /hits (HTML page)", "/hits", 100, optional=True),
        Probe("GET /api/v1/hits (profile, zh, since)", f"/api/v1/hits?{filters}", 50),
        Probe(
            "GET /api/v1/hits page 2 (next_cursor)", f"/api/v1/hits?{filters}", 50, page_two=True
        ),
        Probe("GET /feeds/hits.atom", "/feeds/hits.atom", 50),
        Probe(f"GET /feeds/profiles/{profile}.atom", f"/feeds/profiles/{profile}.atom", 50),
        Probe(
            "GET /api/v1/stats/hits (day, 365 days)",
            "/api/v1/stats/hits?" + urlencode({"profile": profile, "bucket": "day", "since": year}),
            100,
        ),
    ]
    for label, query in (
        ("english phrase", '"great firewall"'),
        ("2-character Chinese", "网信"),
        ("4-character Chinese", "网络主权"),
    ):
        path = f"/api/v1/search?q={quote(query)}"
        out.append(Probe(f"GET /api/v1/search {label} {query}", path, 500))
    return out


@dataclass(slots=True)
class Timed:
    """The measured requests of one probe."""

    probe: Probe
    ms: list[float] = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=dict)  # search: examined, scan, …
    skipped: str = ""  # why it was not measured
    failed: str = ""  # the error it was answered with

    @property
    def p95(self) -> float:
        ordered = sorted(self.ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


# ---------------------------------------------------------------- the databases


@contextmanager
def archive_url(kind: str, articles: int, keep: bool, folder: Path) -> Iterator[str]:
    """The database the archive lives in: a SQLite file in `folder` or a PostgreSQL
    database; named after the size and kept when `keep`, else a fresh one removed after."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"archive-{articles}" if keep else f"archive-{uuid.uuid4().hex[:10]}"
    if kind == "sqlite":
        path = folder / f"{name}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            if not keep:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    db = name.replace("-", "_").replace("archive", "bench_archive")
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        there = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone()
        if not there:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
    base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{db}"
    finally:
        if not keep:
            with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
                drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                conn.execute(drop.format(sql.Identifier(db)))


def built(engine: Engine, plan: Plan) -> dict[str, Any] | None:
    """What a kept archive says of itself (table bench_archive), when it is a complete build
    of this plan."""
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_archive (body TEXT NOT NULL)"))
        row = conn.execute(text("SELECT body FROM bench_archive")).first()
    if row is None:
        return None
    meta: dict[str, Any] = json.loads(row[0])
    same = (meta.get("version"), meta.get("articles"), meta.get("seed"), meta.get("schema")) == (
        VERSION,
        plan.articles,
        plan.seed,
        schema(),
    )
    return meta if same and meta.get("complete") else None


def schema() -> dict[str, list[str]]:
    """The columns the build writes: a kept archive built for other columns is rebuilt."""
    return {table.name: sorted(table.c.keys()) for table in _TABLES}


def emptied(url: str) -> None:
    """Remove a partial or outdated archive so that it is built afresh."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    with open_engine(url).connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
        conn.commit()


# ---------------------------------------------------------------- the build

_WORKER: Generator | None = None


def _start_worker(material: Material, plan: Plan) -> None:
    global _WORKER  # noqa: PLW0603  (one generator per worker process)
    _WORKER = Generator(material, plan)


def _make_chunk(first: int, count: int) -> Chunk:
    assert _WORKER is not None
    return _WORKER.chunk(first, count)


def chunks(material: Material, plan: Plan, workers: int) -> Iterator[Chunk]:
    """The archive's chunks in id order, made by `workers` processes (0: here), at most a
    few ahead of the caller (each holds 5,000 articles' text twice)."""
    spans = [
        (first, min(CHUNK, plan.articles - first + 1))
        for first in range(1, plan.articles + 1, CHUNK)
    ]
    if workers <= 0:
        here = Generator(material, plan)
        for first, count in spans:
            yield here.chunk(first, count)
        return
    with ProcessPoolExecutor(workers, initializer=_start_worker, initargs=(material, plan)) as pool:
        pending: deque[Future[Chunk]] = deque()
        for first, count in spans:
            pending.append(pool.submit(_make_chunk, first, count))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def build(engine: Engine, material: Material, plan: Plan, workers: int) -> dict[str, Any]:
    """Fill an empty, migrated database with the archive; what it took."""
    started = time.monotonic()
    plan, gin = _prepare(engine, plan)
    inserting = waiting = 0.0
    totals: Counter[str] = Counter()
    mark = time.monotonic()
    for chunk in chunks(material, plan, workers):
        now = time.monotonic()
        waiting += now - mark
        insert_chunk(engine, chunk)
        mark = time.monotonic()
        inserting += mark - now
        totals["articles"] += len(chunk.articles)
        totals["hits"] += len(chunk.hits)
        totals["articles_with_hits"] += len({hit["article_id"] for hit in chunk.hits})
        totals["characters"] += chunk.characters
        totals.update(f"hits {hit['profile']}" for hit in chunk.hits)
        totals.update(f"language {a['language']}" for a in chunk.articles)
        if totals["articles"] % (20 * CHUNK) == 0 or totals["articles"] == plan.articles:
            rate = totals["articles"] / (time.monotonic() - started)
            print(f"  {totals['articles']:,} articles stored ({rate:,.0f}/s)", flush=True)
    finishing = time.monotonic()
    index_seconds = _finish(engine, gin)
    seconds = time.monotonic() - started
    return {
        "seconds": round(seconds, 1),
        "insert_seconds": round(inserting, 1),
        "waiting_for_generation_seconds": round(waiting, 1),
        "gin_index_seconds": round(index_seconds, 1),
        "finish_seconds": round(time.monotonic() - finishing, 1),
        "articles_per_second": round(plan.articles / seconds, 1),
        "workers": workers,
        "mean_characters": round(totals["characters"] / max(1, totals["articles"])),
        **{key: value for key, value in sorted(totals.items()) if key != "characters"},
    }


def _prepare(engine: Engine, plan: Plan) -> tuple[Plan, bool]:
    """The feeds stored (the plan given their ids) and, on PostgreSQL, the trigram keys' index
    dropped for the load; whether there was one."""
    plan = Plan(plan.articles, plan.anchor, plan.seed, store_feeds(engine, plan.anchor))
    if engine.dialect.name != "postgresql":
        return plan, False
    with engine.begin() as conn:
        found = "SELECT 1 FROM pg_indexes WHERE indexname = :name"
        gin = conn.execute(text(found), {"name": GIN_NAME}).first() is not None
        if gin:
            conn.execute(text(f"DROP INDEX {GIN_NAME}"))
    return plan, gin


_TABLES = (ArticleRow.__table__, EntryRow.__table__, HitRow.__table__)  # type: ignore[attr-defined]


def insert_chunk(engine: Engine, chunk: Chunk) -> None:
    """One chunk in one transaction: articles, entries, hits (executemany), the index rows
    through the service's own add_to_index. A hit is dated as store_article dates it (its
    article's publication date, else when it was fetched) where the schema has the column."""
    if "published" in HitRow.__table__.c:  # type: ignore[attr-defined]
        dated = {a["id"]: a["published_at"] or a["fetched_at"] for a in chunk.articles}
        for hit in chunk.hits:
            hit["published"] = dated[hit["article_id"]]
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
        else:
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO off")
        for table, values in zip(_TABLES, (chunk.articles, chunk.entries, chunk.hits), strict=True):
            if values:
                conn.execute(insert(table), values)
        add_to_index(conn, chunk.index)


def _finish(engine: Engine, gin: bool) -> float:
    """After the load: PostgreSQL's sequence, trigram keys' index (its seconds are returned) and
    VACUUM ANALYZE; SQLite's WAL folded into the file."""
    if engine.dialect.name != "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return 0.0
    started = time.monotonic()
    with engine.begin() as conn:
        conn.execute(text("SELECT setval('article_id_seq', (SELECT max(id) FROM article))"))
        if gin:
            conn.exec_driver_sql("SET LOCAL maintenance_work_mem TO '512MB'")
            conn.execute(text(GIN))
    seconds = time.monotonic() - started
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    return seconds


def record(engine: Engine, meta: dict[str, Any]) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_archive (body TEXT NOT NULL)"))
        conn.execute(text("DELETE FROM bench_archive"))
        conn.execute(
            text("INSERT INTO bench_archive (body) VALUES (:body)"), {"body": json.dumps(meta)}
        )


def sizes(engine: Engine, url: str) -> dict[str, float]:
    """The database's size in MB and the search index's share of it."""
    mb = 2**20
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            path = Path(url.removeprefix("sqlite:///"))
            total = sum(
                Path(f"{path}{s}").stat().st_size
                for s in ("", "-wal")
                if Path(f"{path}{s}").exists()
            )
            pages = conn.exec_driver_sql("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
            tables = {str(row[0]): int(row[1]) for row in pages}
            index = sum(size for name, size in tables.items() if name.startswith("article_search"))
            articles = tables.get("article", 0)
        else:
            total = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            index = conn.execute(
                text("SELECT pg_total_relation_size('article_search')")
            ).scalar_one()
            articles = conn.execute(text("SELECT pg_total_relation_size('article')")).scalar_one()
    return {
        "database_mb": round(total / mb, 1),
        "search_index_mb": round(index / mb, 1),
        "search_index_share": round(index / total, 3) if total else 0.0,
        "article_table_mb": round(articles / mb, 1),
    }


# ---------------------------------------------------------------- the requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def served(engine: Engine, config_dir: Path) -> Iterator[int]:
    """The application on a port of 127.0.0.1 (uvicorn in a thread)."""
    app = create_app(engine, config_dir)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web server did not start")
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def fetch(conn: http.client.HTTPConnection, path: str) -> tuple[float, bytes]:
    """One GET over the kept-alive connection: milliseconds and the body."""
    started = time.perf_counter()
    conn.request("GET", path)
    answer = conn.getresponse()
    body = answer.read()
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status != 200:
        raise Unanswered(answer.status, f"GET {path}: {answer.status} {body[:300]!r}")
    return elapsed, body


class Unanswered(RuntimeError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def measure_requests(port: int, wanted: list[Probe], warmups: int, repeats: int) -> list[Timed]:
    """Every probe in turn over one kept-alive connection. A probe answered with an error is
    recorded as failed (the others are still measured); an optional page that is not there
    (404), or a second page that does not exist, as skipped."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    out = []
    try:
        for probe in wanted:
            timed = Timed(probe)
            out.append(timed)
            try:
                _measure(conn, timed, warmups, repeats)
            except Unanswered as error:
                if probe.optional and error.status == 404:
                    timed.skipped = f"the application has no {probe.path} yet (404)"
                else:
                    timed.failed = str(error)
                timed.ms.clear()
            if timed.ms:
                print(
                    f"  {probe.label}: median {statistics.median(timed.ms):,.1f} ms, "
                    f"p95 {timed.p95:,.1f} ms {timed.answer or ''}",
                    flush=True,
                )
            else:
                print(f"  {probe.label}: {timed.failed or 'skipped, ' + timed.skipped}", flush=True)
    finally:
        conn.close()
    return out


def _measure(conn: http.client.HTTPConnection, timed: Timed, warmups: int, repeats: int) -> None:
    probe = timed.probe
    path = probe.path
    _, body = fetch(conn, path)
    if probe.page_two:
        cursor = json.loads(body)["next_cursor"]
        if not cursor:
            timed.skipped = "no second page: too few hits for the filters"
            return
        path = f"{path}&cursor={cursor}"
    for n in range(warmups + repeats):
        elapsed, body = fetch(conn, path)
        if n >= warmups:
            timed.ms.append(elapsed)
    if path.startswith("/api/"):
        answer = json.loads(body)
        timed.answer = {k: v for k, v in answer.items() if k not in ("items", "counts")}
        if "items" in answer:
            timed.answer["items"] = len(answer["items"])


def timed_backtest(engine: Engine, config_dir: Path, profile: str, runs: int) -> dict[str, Any]:
    chosen = next(p for p in load_profiles(config_dir) if p.name == profile)
    seconds = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = backtest(engine, chosen, None)
        seconds.append(time.perf_counter() - started)
    assert result is not None
    print(
        f"  backtest {profile}: {statistics.median(seconds):,.1f} s, {result.candidates:,} "
        f"candidates of {result.articles:,} articles, kept {result.kept:,}, "
        f"added {len(result.added)}, removed {len(result.removed)}",
        flush=True,
    )
    return {
        "profile": profile,
        "seconds": seconds,
        "articles": result.articles,
        "candidates": result.candidates,
        "scan": result.scan,
        "kept": result.kept,
        "added": len(result.added),
        "removed": len(result.removed),
    }


# ---------------------------------------------------------------- store_article ± the index


@dataclass(frozen=True, slots=True)
class Stored:
    """One article as the pipeline's match stage hands it to store_article."""

    feed_id: int
    entry: Entry
    article: Article  # without search_text
    matches: list[Match]
    folded: tuple[str, str]  # title and text as the match stage folded them
    now: datetime  # when it was fetched


def store_inputs(chunk: Chunk) -> list[Stored]:
    """The chunk's articles as store_article's arguments, with their matches and folded text
    (folded here, as the match stage folds them before matching)."""
    matches: dict[int, list[Match]] = {}
    for hit in chunk.hits:
        matches.setdefault(hit["article_id"], []).append(
            Match(
                hit["profile"],
                hit["profile_version"],
                hit["matched_terms"],
                hit["score"],
                hit["snippet"],
                tuple(hit["snippets"]),
            )
        )
    out = []
    for row in chunk.articles:
        article = Article(
            row["url"],
            row["title"],
            row["text"],
            language=row["language"],
            sitename=row["sitename"],
            published_at=row["published_at"],
        )
        fields = folded_fields(Doc(article.title, article.text))
        out.append(
            Stored(
                row["feed_id"],
                Entry(row["url"], row["link"], row["title"], "", row["published_at"]),
                article,
                matches.get(row["id"], []),
                (fields["title"].folded, fields["text"].folded),
                row["fetched_at"],
            )
        )
    return out


def store_one_by_one(engine: Engine, articles: list[Stored], *, index: bool = True) -> float:
    """store_article for each, as the pipeline calls it: with the index form of the folded
    text made from the match stage's folding (`index`), or without it (store_article then
    folds the text itself unless its indexed_text is replaced); milliseconds per article."""
    started = time.perf_counter()
    for one in articles:
        article = one.article
        if index:
            article = replace(article, search_text=index_text(*one.folded))
        stored_articles.store_article(
            engine,
            feed_id=one.feed_id,
            entry=one.entry,
            article=article,
            matches=one.matches,
            routes={},
            now=one.now,
        )
    return (time.perf_counter() - started) * 1000 / max(1, len(articles))


def store_feeds(engine: Engine, anchor: datetime) -> tuple[int, ...]:
    """The archive's feeds stored; their ids in FEEDS order."""
    specs = [FeedSpec(f"https://{site}/feed.xml", name) for name, site, _ in FEEDS]
    sync_feeds(engine, specs, anchor)
    rows = feed_rows(engine)
    return tuple(rows[spec.url].id or 0 for spec in specs)


def compare_store(kind: str, material: Material, count: int, folder: Path) -> dict[str, Any]:
    """ms per store_article with the index kept up to date and without it, interleaved in
    blocks on two fresh databases of `kind`."""
    anchor = anchor_now()
    block = max(1, min(100, count // 10))
    with (
        tempfile.TemporaryDirectory(prefix="store-", dir=folder) as tmp,
        database(kind, Path(tmp) / "with") as with_url,
        database(kind, Path(tmp) / "without") as without_url,
    ):
        engines = {"with index": open_engine(with_url), "without index": open_engine(without_url)}
        feed_ids = set()
        for engine in engines.values():
            upgrade(engine)
            feed_ids.add(store_feeds(engine, anchor))
        (ids,) = feed_ids  # the same in both
        inputs = store_inputs(Generator(material, Plan(count, anchor, 2, ids)).chunk(1, count))
        per_block: dict[str, list[float]] = {variant: [] for variant in engines}
        try:
            for number, start in enumerate(range(0, count, block)):
                order = list(engines) if number % 2 == 0 else list(engines)[::-1]
                for variant in order:
                    work = inputs[start : start + block]
                    if variant == "with index":
                        ms = store_one_by_one(engines[variant], work)
                    else:  # the index step removed: no index form, no insert
                        with (
                            mock.patch.object(stored_articles, "add_to_index", _no_index),
                            mock.patch.object(stored_articles, "indexed_text", _no_text),
                        ):
                            ms = store_one_by_one(engines[variant], work, index=False)
                    per_block[variant].append(ms)
        finally:
            for engine in engines.values():
                engine.dispose()
    ratios = [
        a / b for a, b in zip(per_block["with index"], per_block["without index"], strict=True)
    ]
    added = statistics.median(per_block["with index"]) - statistics.median(
        per_block["without index"]
    )
    budget = PIPELINE_CORES * 3_600_000 / PIPELINE_TARGET  # CPU ms per article at the target
    print(
        f"  store_article {kind}: {statistics.median(per_block['with index']):.2f} ms with the "
        f"index, {statistics.median(per_block['without index']):.2f} ms without "
        f"(x{statistics.median(ratios):.2f})",
        flush=True,
    )
    return {
        "articles": count,
        "block": block,
        "ms_per_article": per_block,
        "ratio": ratios,
        "added_ms": added,
        "pipeline_drop_estimate": max(0.0, added) / (budget + max(0.0, added)),
        "budget_ms": budget,
    }


def _no_index(conn: Any, rows: Any) -> None:
    return None


def _no_text(title: str, body: str) -> str:
    return ""


# ---------------------------------------------------------------- one database


def bench_database(kind: str, options: argparse.Namespace, material: Material) -> dict[str, Any]:
    plan = Plan(options.articles, anchor_now(), options.seed)
    out: dict[str, Any] = {"database": kind}
    with archive_url(kind, options.articles, options.keep, options.folder) as url:
        engine = open_engine(url)
        try:
            upgrade(engine)
            meta = built(engine, plan) if options.keep else None
            if meta is None:
                if options.keep:  # a partial or older archive under this name: start afresh
                    engine.dispose()
                    emptied(url)
                    engine = open_engine(url)
                    upgrade(engine)
                    built(engine, plan)
                print(f"{kind}: building {plan.articles:,} articles", flush=True)
                meta = {
                    "version": VERSION,
                    "articles": plan.articles,
                    "seed": plan.seed,
                    "schema": schema(),
                    "anchor": plan.anchor.isoformat(),
                    "build": build(engine, material, plan, options.workers),
                    "complete": True,
                }
                record(engine, meta)
                engine.dispose()  # the build's connections carry its pragmas
                engine = open_engine(url)
                out["reused"] = False
            else:
                print(f"{kind}: reusing the archive built {meta['anchor']}", flush=True)
                out["reused"] = True
            anchor = datetime.fromisoformat(meta["anchor"])
            out["build"] = meta["build"]
            out["sizes"] = sizes(engine, url)
            print(f"  {kind}: {out['build']} {out['sizes']}", flush=True)
            with tempfile.TemporaryDirectory(prefix="config-", dir=options.folder) as tmp:
                config_dir = fresh_config(Path(tmp) / "config", [])
                with served(engine, config_dir) as port:
                    wanted = probes(options.profile, anchor, options.page_size)
                    timed = measure_requests(port, wanted, options.warmups, options.repeats)
                out["requests"] = [
                    {
                        "label": t.probe.label,
                        "path": t.probe.path,
                        "target_ms": t.probe.target_ms,
                        "ms": t.ms,
                        "median_ms": statistics.median(t.ms) if t.ms else None,
                        "p95_ms": t.p95 if t.ms else None,
                        "answer": t.answer,
                        "skipped": t.skipped,
                        "failed": t.failed,
                    }
                    for t in timed
                ]
                out["backtest"] = timed_backtest(
                    engine, config_dir, options.profile, options.backtest_runs
                )
        finally:
            engine.dispose()
    if options.store_articles > 0:
        out["store"] = compare_store(kind, material, options.store_articles, options.folder)
    return out


# ---------------------------------------------------------------- figures


def figures(results: list[dict[str, Any]]) -> list[Figure]:
    out: list[Figure] = []
    for result in results:
        kind = result["database"]
        build, size = result["build"], result["sizes"]
        reused = " (reused: built in an earlier run)" if result["reused"] else ""
        out.append(
            Figure(
                f"archive {kind}: build of {build['articles']:,} articles",
                Spread.of([build["seconds"]]),
                "s",
                note=f"{build['articles_per_second']:,.0f} articles/s, {build['workers']} "
                f"generating processes, GIN index {build['gin_index_seconds']:,.0f} s{reused}",
            )
        )
        out.append(
            Figure(
                f"archive {kind}: database size",
                Spread.of([size["database_mb"]]),
                "MB",
                note=f"search index {size['search_index_mb']:,.0f} MB = "
                f"{size['search_index_share']:.0%}; "
                f"article table {size['article_table_mb']:,.0f} MB",
            )
        )
        for request in result["requests"]:
            label = f"archive {kind}: {request['label']}"
            if request["skipped"]:
                note = f"skipped: {request['skipped']}"
                out.append(Figure(label, Spread.of([0.0]), "ms", note=note))
                continue
            target = request["target_ms"]
            if request["failed"]:
                note = f"FAILED: {request['failed']}"
                out.append(Figure(label, Spread.of([0.0]), "ms", f"<= {target:,} ms", False, note))
                continue
            values = Spread.of(request["ms"])
            answer = request["answer"]
            note = f"p95 {request['p95_ms']:,.1f} ms"
            if "examined" in answer:
                note += (
                    f"; examined {answer['examined']:,}, scan {answer['scan']}, "
                    f"complete {answer['complete']}, {answer['items']} items"
                )
            out.append(
                Figure(label, values, "ms", f"<= {target:,} ms", values.median <= target, note)
            )
        run = result["backtest"]
        seconds = Spread.of(run["seconds"])
        out.append(
            Figure(
                f"archive {kind}: backtest {run['profile']} over the archive",
                seconds,
                "s",
                "<= 120 s",
                seconds.median <= 120,
                f"{run['candidates']:,} candidates of {run['articles']:,} articles, "
                f"scan {run['scan']}; kept {run['kept']:,}, added {run['added']}, "
                f"removed {run['removed']}",
            )
        )
        if "store" in result:
            out += store_figures(kind, result["store"])
    return out


def store_figures(kind: str, store: dict[str, Any]) -> list[Figure]:
    with_index = Spread.of(store["ms_per_article"]["with index"])
    without = Spread.of(store["ms_per_article"]["without index"])
    drop = store["pipeline_drop_estimate"]
    return [
        Figure(
            f"archive {kind}: store_article, index kept up to date",
            with_index,
            "ms",
            note=f"{store['articles']:,} articles in blocks of {store['block']}, interleaved",
        ),
        Figure(f"archive {kind}: store_article, without the index", without, "ms"),
        Figure(
            f"archive {kind}: store_article with ÷ without the index",
            Spread.of(store["ratio"]),
            "x",
            note=f"+{store['added_ms']:.2f} ms per article",
        ),
        Figure(
            f"archive {kind}: pipeline drop from the index (estimate)",
            Spread.of([100 * drop]),
            "%",
            "<= 10 %",
            drop <= 0.10,
            f"+{store['added_ms']:.2f} ms on {store['budget_ms']:.0f} CPU-ms per article "
            f"({PIPELINE_TARGET:,}/h on {PIPELINE_CORES} cores)",
        ),
    ]


# ---------------------------------------------------------------- entry points


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--articles", type=int, help=f"articles in the archive ({DEFAULT_ARTICLES:,})"
    )
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="sqlite, postgresql or both"
    )
    parser.add_argument("--repeats", type=int, help="timed requests per figure (30)")
    parser.add_argument("--warmups", type=int, default=3, help="untimed requests before")
    parser.add_argument("--backtest-runs", type=int, default=1, help="backtests timed (1)")
    parser.add_argument(
        "--store-articles",
        type=int,
        help="store_article calls per variant with and without the index (2,000; 0: skip)",
    )
    parser.add_argument("--profile", default=PROFILE, help=f"the profile asked for ({PROFILE})")
    parser.add_argument(
        "--page-size",
        type=int,
        default=API_PAGE,
        help=f"limit of the /api/v1/hits requests ({API_PAGE}, the API's default)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="processes generating the archive (0: in this one)",
    )
    parser.add_argument("--seed", type=int, default=1, help="of the generator")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the built databases, and reuse ones kept before (same size and generator)",
    )
    parser.add_argument("--folder", type=Path, default=FOLDER, help=f"for SQLite files ({FOLDER})")
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_ARTICLES:,} articles, 10 repeats"
    )
    parser.add_argument("--output", type=Path, help="result JSON (benchmarks/results/archive.json)")


def run(options: argparse.Namespace) -> dict[str, Any]:
    quick = options.quick
    options.articles = options.articles or (QUICK_ARTICLES if quick else DEFAULT_ARTICLES)
    options.repeats = options.repeats or (10 if quick else 30)
    if options.store_articles is None:
        options.store_articles = 500 if quick else 2_000
    kinds = [k.strip() for k in options.databases.split(",") if k.strip()]
    unknown = set(kinds) - {"sqlite", "postgresql"}
    if unknown:
        raise ValueError(f"--databases: unknown {', '.join(sorted(unknown))}")
    skipped = {}
    if "postgresql" in kinds and (reason := postgres_unavailable()):
        kinds.remove("postgresql")
        skipped["postgresql"] = reason
        print(f"postgresql skipped: {reason}")
    material = load_material()
    setup = (
        f"{options.articles:,} articles ({material.source}); {options.warmups} warm-ups and "
        f"{options.repeats} timed requests per figure over HTTP (uvicorn in a thread, one "
        f"kept-alive connection); profile {options.profile}"
    )
    print(setup, flush=True)
    code = code_version()
    print(f"code: {code['commit']}, changed in monitor/: {code['changed']}", flush=True)
    results = [bench_database(kind, options, material) for kind in kinds]
    return {
        "name": NAME,
        "figures": [f.as_dict() for f in figures(results)],
        "details": {
            "setup": setup,
            "material": material.counts(),
            "skipped": skipped,
            "databases": results,
            "options": {k: str(v) for k, v in vars(options).items()},
            "code": code,
        },
    }


def code_version() -> dict[str, Any]:
    """The commit measured and the files of monitor/ that differ from it (None: no git)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", "monitor"],  # noqa: S607
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "changed": None}
    return {"commit": head, "changed": [line[3:] for line in changed]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    options = parser.parse_args()
    report(NAME, "Archive: web and search over a large archive", run(options), options.output)


if __name__ == "__main__":
    main()
