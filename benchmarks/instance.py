"""A monitor instance for the service benchmarks (pipeline, quiet): a config folder of
their own (of config/ only the shipped profiles and concepts), a fresh database (a SQLite file,
or a PostgreSQL database created and dropped), the memory and CPU meter, and a sink for the
monitor's log. Nothing runs at import time."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import psutil  # type: ignore[import-untyped]  # (no types-psutil in the venv)
import psycopg
from psycopg import sql
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from benchmarks.common import REPO
from benchmarks.profiles_1000 import write_profiles
from monitor.profiles.files import load_profiles
from monitor.profiles.matcher import Matcher
from monitor.store.tables import ArticleRow

ADMIN_DSN = os.environ.get("MONITOR_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
SAMPLE_SECONDS = 0.2


def postgres_unavailable(admin_dsn: str = ADMIN_DSN) -> str | None:
    """Why the PostgreSQL server cannot be used, or None when it can."""
    try:
        with psycopg.connect(admin_dsn, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {admin_dsn} ({type(exc).__name__})"


@contextmanager
def database(kind: str, folder: Path, admin_dsn: str = ADMIN_DSN) -> Iterator[str]:
    """The URL of a new, empty database: a SQLite file in `folder`, or a PostgreSQL database
    `bench_<random>` dropped on leaving."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'monitor.db'}"
        return
    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base = admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))


# What the benchmarks take from the working copy's config/: the shipped profiles and concepts
# (the matching workload) and nothing else. Its alerts.yaml, templates/ and monitor.yaml are the
# user's channels and settings: a copied mail channel once got every farm story as an e-mail.
SHIPPED = REPO / "config"


def fresh_config(folder: Path, feed_urls: Iterable[str], profiles: Path | None = None) -> Path:
    """A config folder of the benchmark's own: the shipped profiles and concepts, the profiles
    in `profiles` added, `feed_urls` as feeds.yaml, no alert channel (alerts go to the log)
    and no settings (the defaults; each benchmark sets what differs as MONITOR_* variables)."""
    (folder / "profiles").mkdir(parents=True)
    for path in sorted((SHIPPED / "profiles").iterdir()):
        if path.suffix in (".yaml", ".yml"):
            shutil.copy(path, folder / "profiles" / path.name)
    for name in ("concepts.yaml", "learned.json"):
        if (SHIPPED / name).is_file():
            shutil.copy(SHIPPED / name, folder / name)
    for path in sorted(profiles.iterdir()) if profiles else []:
        shutil.copy(path, folder / "profiles" / path.name)
    lines = "".join(f"  - url: {url}\n    name: Farm feed {i}\n" for i, url in enumerate(feed_urls))
    (folder / "feeds.yaml").write_text(f"feeds:\n{lines}", encoding="utf-8")
    (folder / "alerts.yaml").write_text("channels: []  # the log only\n", encoding="utf-8")
    (folder / "monitor.yaml").write_text("# the defaults\n", encoding="utf-8")
    return folder


def bench_profiles(folder: Path, pages: Iterable[bytes], total_terms: int = 1_000) -> int:
    """Generated profiles in `folder` that bring the shipped ones to `total_terms` terms;
    the number of distinct terms the service's automaton will hold."""
    folder.mkdir(parents=True, exist_ok=True)
    shipped = load_profiles(SHIPPED)
    write_profiles(
        folder, pages, total_terms=total_terms, shipped_terms=Matcher(shipped).term_count
    )
    config = fresh_config(folder.parent / "term-count", [], folder)
    count = Matcher(load_profiles(config)).term_count
    shutil.rmtree(config)
    return count


def article_count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(ArticleRow)).scalar_one())


class Meter:
    """While entered: CPU seconds of this process, of its child processes (the extraction
    pool) and of the `exclude`d one (the farm); the peak of the summed RSS of this process
    and its children but the `ignore`d ones (sampled every 0.2 s in a thread), and each
    one's RSS at that peak; and the peak of their summed PSS (proportional set size: a page
    shared by n processes counts 1/n in each, so the sum is the memory they hold together,
    where the RSS sum counts shared libraries once per process)."""

    def __init__(self, exclude: int | None = None, ignore: Iterable[int | None] = ()) -> None:
        self._me = psutil.Process()
        self._exclude = psutil.Process(exclude) if exclude else None
        self._ignore = {exclude, *ignore}  # processes of the harness (farms): never counted
        self._start: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)
        self.peak_rss = self.start_rss = self.peak_pss = 0
        self.at_peak: dict[str, float] = {}  # MB per process at the peak
        self.main_cpu = self.children_cpu = self.excluded_cpu = 0.0
        self._main_start = self._excluded_start = 0.0

    def _children(self) -> list[psutil.Process]:
        return [c for c in self._me.children(recursive=True) if c.pid not in self._ignore]

    def _role(self, child: psutil.Process) -> str:
        if child.ppid() != self._me.pid:
            return "worker"  # forked by the forkserver
        line = " ".join(child.cmdline())
        return next((r for r in ("forkserver", "resource_tracker") if r in line), "child")

    def _sample(self) -> None:
        memory = self._me.memory_full_info()
        sizes = {"main": memory.rss}
        pss = memory.pss
        for child in self._children():
            try:
                memory = child.memory_full_info()
                times = child.cpu_times()
            except psutil.Error:  # it ended between listing and reading
                continue
            sizes[f"{self._role(child)} {child.pid}"] = memory.rss
            pss += memory.pss
            self._last[child.pid] = times.user + times.system
        self.peak_pss = max(self.peak_pss, pss)
        if sum(sizes.values()) > self.peak_rss:
            self.peak_rss = sum(sizes.values())
            self.at_peak = {name: round(rss / 2**20, 1) for name, rss in sizes.items()}

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self._sample()

    def _excluded(self) -> float:
        if self._exclude is None:
            return 0.0
        times = self._exclude.cpu_times()
        return float(times.user + times.system)

    def __enter__(self) -> Meter:
        self._sample()
        self.start_rss = self.peak_rss
        self._start = dict(self._last)
        self._main_start = time.process_time()
        self._excluded_start = self._excluded()
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.main_cpu = time.process_time() - self._main_start
        self.excluded_cpu = self._excluded() - self._excluded_start
        self._stop.set()
        self._thread.join()
        self._sample()
        self.children_cpu = sum(cpu - self._start.get(pid, 0.0) for pid, cpu in self._last.items())


class MonitorLogs(logging.Handler):
    """While entered, the `monitor` loggers log at INFO (the shipped level) into this
    handler, which formats every record like a real one would and keeps only the errors."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        self.errors: list[str] = []
        self.counts: dict[str, int] = {}
        self._saved: tuple[int, bool] = (logging.NOTSET, True)

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        self.counts[record.levelname] = self.counts.get(record.levelname, 0) + 1
        if record.levelno >= logging.ERROR:
            self.errors.append(line[:500])

    def __enter__(self) -> MonitorLogs:
        logger = logging.getLogger("monitor")
        self._saved = (logger.level, logger.propagate)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        logger.addHandler(self)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        logger = logging.getLogger("monitor")
        logger.removeHandler(self)
        logger.setLevel(self._saved[0])
        logger.propagate = self._saved[1]
