"""Running unattended: one instance per SQLite file, due feeds shared out in batches, one HTTP
server for the web application, /healthz and /metrics, and a stop on SIGTERM that releases
what it did not finish."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import event
from sqlmodel import Session, select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.errors import StoreError
from monitor.models import FeedSpec
from monitor.runtime import lifecycle
from monitor.runtime.httpserver import WebServer
from monitor.runtime.lifecycle import run_once
from monitor.runtime.service import Service
from monitor.store import feeds, instances
from monitor.store.engine import open_engine, upgrade
from monitor.store.instancelock import InstanceLock
from monitor.store.tables import FeedRow, MessageRow
from monitor.web.app import create_app
from tests.conftest import (
    PG_ADMIN_DSN,
    REPO,
    Clock,
    RecordingSender,
    open_database,
    wait_until,
)
from tests.loopback import LoopbackServer, QuietHandler, SlowFeeds, json_webhook, serving
from tests.newsroom import serve_newsroom
from tests.test_cli import monitor

pytestmark = pytest.mark.slow  # processes, servers or whole cycles: `make test-quick` skips it

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


# --- one instance per SQLite file ---------------------------------------------------------


def test_a_second_instance_on_the_same_sqlite_file_refuses_to_start(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'monitor.db'}")
    with InstanceLock(engine) as held:
        assert held.path == tmp_path / "monitor.db.lock"
        with pytest.raises(StoreError) as refused, InstanceLock(engine):
            pass
        message = str(refused.value)
        assert f"pid {os.getpid()}" in message and "monitor.db" in message
        assert "PostgreSQL" in message  # what to do instead
    with InstanceLock(engine):  # released when the first left
        pass
    engine.dispose()


def test_the_lock_of_a_killed_instance_is_gone_at_once(tmp_path: Path) -> None:
    """kill -9 leaves no stale lock: the kernel drops a flock with its process."""
    database = tmp_path / "monitor.db"
    code = (
        "import sys, time\n"
        "from monitor.store.engine import open_engine\n"
        "from monitor.store.instancelock import InstanceLock\n"
        f"with InstanceLock(open_engine('sqlite:///{database}')):\n"
        "    print('locked', flush=True)\n"
        "    time.sleep(60)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
            engine = open_engine(f"sqlite:///{database}")
            with pytest.raises(StoreError, match=f"pid {holder.pid}"), InstanceLock(engine):
                pass
            holder.kill()
            holder.wait(timeout=10)
            with InstanceLock(engine):
                pass
            engine.dispose()
        finally:
            if holder.poll() is None:
                holder.kill()


def test_postgresql_takes_no_file_lock(postgres_url: str) -> None:
    engine = open_engine(postgres_url)
    with InstanceLock(engine) as first, InstanceLock(engine) as second:
        assert first.path is None and second.path is None
    engine.dispose()


# --- due feeds claimed in batches ---------------------------------------------------------


def test_claims_with_a_limit_hand_out_each_due_feed_once(database_url: str) -> None:
    engine = open_engine(database_url)
    upgrade(engine)
    specs = [FeedSpec(url=f"https://example.org/{n}.xml") for n in range(5)]
    feeds.sync_feeds(engine, specs, NOW)
    lease = timedelta(minutes=15)
    batches = [
        {feed.url for feed in feeds.claim_due(engine, NOW, lease=lease, limit=2)} for _ in range(4)
    ]
    assert [len(batch) for batch in batches] == [2, 2, 1, 0]
    assert set().union(*batches) == {spec.url for spec in specs}
    engine.dispose()


# --- one HTTP server: the web application, /healthz and /metrics -------------------------

TOKEN = "a-long-enough-web-token"


def test_healthz_metrics_and_the_api_answer_on_one_server(
    sqlite_url: str, config_dir: Path, httpserver: HTTPServer
) -> None:
    """The service's seams behind the application, served as `monitor run` serves it: the
    operator's endpoints open, the rest behind the token."""
    site = serve_newsroom(httpserver)
    (config_dir / "feeds.yaml").write_text(f"feeds:\n  - url: {site.zh_feed}\n")
    settings, engine = open_database(config_dir, sqlite_url)
    clock = [datetime.now(UTC)]
    service = Service(config_dir, settings, engine, clock=lambda: clock[0])
    stale = settings.server.stale_after
    web = create_app(
        engine, config_dir, TOKEN, health=service.health, metrics=service.metrics.render
    )

    async def scenario() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        async with (
            WebServer(web, "127.0.0.1", 0) as server,
            aiohttp.ClientSession(f"http://127.0.0.1:{server.port}") as http,
        ):
            async with http.get("/healthz") as response:
                seen["starting"] = (response.status, await response.json())
            await run_once(service)
            async with http.get("/healthz") as response:
                seen["after_cycle"] = (response.status, await response.json())
            async with http.get("/metrics") as response:
                seen["metrics"] = (response.status, response.content_type, await response.text())
            async with http.get("/api/v1/hits") as response:
                seen["no_token"] = response.status
            bearer = {"Authorization": f"Bearer {TOKEN}"}
            async with http.get("/api/v1/hits", headers=bearer) as response:
                seen["hits"] = (response.status, await response.json())
            clock[0] += timedelta(seconds=stale + 1)  # no cycle for longer than stale_after
            async with http.get("/healthz") as response:
                seen["stale"] = (response.status, await response.json())
            engine.dispose()  # the database gone: a scrape says so, the server goes on
            Path(sqlite_url.removeprefix("sqlite:///")).unlink()
            async with http.get("/metrics") as response:
                seen["no_database"] = (response.status, await response.text())
        return seen

    seen = asyncio.run(scenario())
    engine.dispose()
    status, body = seen["starting"]
    assert status == 200 and body["status"] == "ok" and body["last_cycle_end"] is None
    status, body = seen["after_cycle"]
    assert status == 200 and body["cycles"] == 1 and body["last_cycle_age_seconds"] == 0
    assert body["instance"] == service.instance_id
    status, body = seen["stale"]
    assert status == 503 and body["status"] == "stale"
    assert body["last_cycle_age_seconds"] == pytest.approx(stale + 1, abs=1)
    status, kind, text = seen["metrics"]
    assert status == 200 and kind == "text/plain"
    lines = set(text.splitlines())
    assert "monitor_cycle_duration_seconds_count 1.0" in lines
    assert 'monitor_feeds_polled_total{result="ok"} 1.0' in lines
    assert 'monitor_feeds{status="ok"} 1.0' in lines
    assert any(line.startswith('monitor_hits{profile="great_firewall"} ') for line in lines)
    assert any(
        line.startswith('monitor_stage_seconds_total{stage="fetch_feed"} ') for line in lines
    )
    assert any(line.startswith("monitor_outbox_backlog ") for line in lines)
    assert seen["no_token"] == 401
    status, page = seen["hits"]
    assert status == 200 and "great_firewall" in {item["profile"] for item in page["items"]}
    status, text = seen["no_database"]
    assert status == 503 and text.startswith("metrics unavailable: ")


def test_without_a_service_healthz_says_the_application_answers_and_metrics_is_absent(
    sqlite_url: str, config_dir: Path
) -> None:
    """What `monitor web` serves: nothing polls, so nothing can be stale or counted."""
    _, engine = open_database(config_dir, sqlite_url)

    async def scenario() -> list[tuple[int, str]]:
        async with (
            WebServer(create_app(engine, config_dir), "127.0.0.1", 0) as server,
            aiohttp.ClientSession(f"http://127.0.0.1:{server.port}") as http,
        ):
            answers = []
            for path in ("/healthz", "/metrics"):
                async with http.get(path) as response:
                    answers.append((response.status, await response.text()))
            return answers

    healthz, metrics = asyncio.run(scenario())
    engine.dispose()
    assert healthz == (200, '{"status":"ok"}')
    assert metrics[0] == 404 and "monitor run" in json.loads(metrics[1])["error"]["message"]


def _serving_port(log: Path, process: subprocess.Popen[bytes]) -> int:
    """The port a `monitor run` says it serves on, once it has said so."""
    pattern = re.compile(
        r"serving the web application, /healthz and /metrics on http://127\.0\.0\.1:(\d+)"
    )
    found: list[int] = []

    def said() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the service exited {process.returncode}:\n{log.read_text()}")
        match = pattern.search(log.read_text())
        if match:
            found.append(int(match.group(1)))
        return bool(found)

    wait_until(said, 60, "the service to say where it serves")
    return found[0]


def _get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as failed:
        return failed.code, failed.read()


def test_monitor_run_serves_everything_on_one_port_and_gives_it_back_on_sigterm(
    tmp_path: Path, config_dir: Path, httpserver: HTTPServer
) -> None:
    site = serve_newsroom(httpserver)
    log = tmp_path / "service.log"
    first = _start_service(tmp_path, config_dir, [site.zh_feed])
    try:
        port = _serving_port(log, first)
        wait_until(lambda: "cycle feeds_polled=1" in log.read_text(), 120, "the first cycle")
        status, body = _get(port, "/healthz")
        assert status == 200 and json.loads(body)["cycles"] >= 1
        status, body = _get(port, "/metrics")
        assert status == 200 and b"\nmonitor_cycle_duration_seconds_count " in body
        status, body = _get(port, "/api/v1/hits")
        assert status == 200 and len(json.loads(body)["items"]) >= 2
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
    finally:
        if first.poll() is None:
            first.kill()
    assert "Traceback" not in log.read_text()
    log.unlink()
    # the same port at once: the first run closed it (a lingering listener would refuse it)
    second = _start_service(
        tmp_path, config_dir, [site.zh_feed], env={"MONITOR_SERVER_PORT": str(port)}
    )
    try:
        assert _serving_port(log, second) == port
        assert _get(port, "/healthz")[0] == 200
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
    finally:
        if second.poll() is None:
            second.kill()


def test_a_busy_port_is_a_clear_error_before_any_cycle(tmp_path: Path, config_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ran = monitor(
            "--config", str(config_dir), "run", cwd=tmp_path,
            env={"MONITOR_SERVER_PORT": str(port)},
        )  # fmt: skip
    assert ran.returncode == 2, ran.stdout + ran.stderr
    assert (
        f"configuration error: server: cannot listen on 127.0.0.1:{port} (Address already in "
        "use); set server.port to a free port, or server.enabled: false"
    ) in ran.stderr
    assert "cycle feeds_polled" not in ran.stdout and "Traceback" not in ran.stderr


def test_serving_beyond_loopback_without_a_token_is_refused_before_anything_opens(
    tmp_path: Path, config_dir: Path
) -> None:
    ran = monitor(
        "--config", str(config_dir), "run", cwd=tmp_path, env={"MONITOR_SERVER_HOST": "0.0.0.0"}
    )
    assert ran.returncode == 2, ran.stdout + ran.stderr
    assert "serving on 0.0.0.0 needs web.token (MONITOR_WEB_TOKEN)" in ran.stderr
    assert not (tmp_path / "data").exists()  # no database made, nothing polled


# --- stopping on SIGTERM ------------------------------------------------------------------


@pytest.fixture
def slow_server() -> Iterator[SlowFeeds]:
    with serving(SlowFeeds()) as server:
        yield server


def _start_service(
    tmp_path: Path,
    config_dir: Path,
    feed_urls: list[str],
    *args: str,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    feeds_yaml = "feeds:\n" + "".join(f"  - url: {url}\n" for url in feed_urls)
    feeds_yaml = feeds_yaml if feed_urls else "feeds: []\n"
    (config_dir / "feeds.yaml").write_text(feeds_yaml)
    (config_dir / "monitor.yaml").write_text(
        "tick: 1s\nshutdown_timeout: 2s\nfetch:\n  per_host: 8\nextract:\n  workers: 1\n"
        "server:\n  port: 0\n"
    )
    with (tmp_path / "service.log").open("wb") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [sys.executable, str(REPO / "run_monitor.py"), "--config", str(config_dir), *args],
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "MONITOR_CONFIG_DIR": "", **(env or {})},
        )


def test_sigterm_mid_cycle_releases_unfinished_feeds_and_exits_within_the_bound(
    tmp_path: Path, config_dir: Path, slow_server: SlowFeeds
) -> None:
    base, started = slow_server.base, slow_server.started
    urls = [f"{base}/feed{n}.xml" for n in range(3)]
    process = _start_service(tmp_path, config_dir, urls)
    try:
        wait_until(lambda: len(started) == 3, 60, "the three polls to reach the server")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0  # (a hang guard: the bound is the log below)
    finally:
        if process.poll() is None:
            process.kill()
    log = (tmp_path / "service.log").read_text()
    # the polls hang for good: shutdown_timeout (2 s) ran out and cancelled them
    assert "job(s) still running after 2s: cancelled" in log
    assert "SIGTERM received" in log and "3 claimed feeds released unpolled" in log
    assert "monitor stopped" in log and "Traceback" not in log
    engine = open_engine(f"sqlite:///{tmp_path / 'data' / 'monitor.db'}")
    with Session(engine) as session:
        rows = session.exec(select(FeedRow)).all()
    engine.dispose()
    assert len(rows) == 3
    assert all(row.lease_until is None and row.last_polled_at is None for row in rows)


def test_sigterm_stops_a_single_cycle_too(
    tmp_path: Path, config_dir: Path, slow_server: SlowFeeds
) -> None:
    base, started = slow_server.base, slow_server.started
    process = _start_service(tmp_path, config_dir, [f"{base}/a.xml", f"{base}/b.xml"], "--once")
    try:
        wait_until(lambda: len(started) == 2, 60, "the polls to reach the server")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
    log = (tmp_path / "service.log").read_text()
    assert "2 claimed feeds released unpolled" in log and "cycle stopped by a signal" in log
    assert "Traceback" not in log
    engine = open_engine(f"sqlite:///{tmp_path / 'data' / 'monitor.db'}")
    with Session(engine) as session:
        assert [row.lease_until for row in session.exec(select(FeedRow))] == [None, None]
    engine.dispose()


def test_jobs_are_scheduled_with_deliberate_misfire_and_coalescing(
    sqlite_url: str, config_dir: Path
) -> None:
    (config_dir / "alerts.yaml").write_text(
        "channels:\n  - url: json://127.0.0.1:1/hook\n"
        'digests:\n  morning: {at: "08:00", timezone: Asia/Shanghai}\n'
    )
    settings, engine = open_database(config_dir, sqlite_url)
    service = Service(config_dir, settings, engine)

    async def jobs() -> dict[str, tuple[object, ...]]:
        async def tick() -> None:
            pass

        def tracked(job: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
            async def run() -> None:
                await job()

            return run

        scheduler = lifecycle.scheduler(service, asyncio.get_running_loop(), tick, tracked)
        scheduler.start(paused=True)  # jobs get their settings when added to the store
        try:
            return {
                job.id: (job.coalesce, job.max_instances, job.misfire_grace_time)
                for job in scheduler.get_jobs()
            }
        finally:
            scheduler.shutdown(wait=False)

    found = asyncio.run(jobs())
    engine.dispose()
    late = int(settings.tick * 10)
    digests = {name: found.pop(name) for name in list(found) if name.startswith("digest-")}
    assert "digest-morning" in digests
    assert set(digests.values()) == {(True, 1, None)}  # a digest is never skipped, however late
    assert found == {
        "poll": (True, 1, late),
        "deliver": (True, 1, late),
        "reload": (True, 1, late),
        "health": (True, 1, late),
        "retention": (True, 1, None),
    }


def test_a_second_signal_exits_at_once(
    tmp_path: Path, config_dir: Path, slow_server: SlowFeeds
) -> None:
    base, started = slow_server.base, slow_server.started
    process = _start_service(tmp_path, config_dir, [f"{base}/feed.xml"])
    try:
        wait_until(lambda: len(started) == 1, 60, "the poll to reach the server")
        process.send_signal(signal.SIGTERM)
        wait_until(
            lambda: "SIGTERM received" in (tmp_path / "service.log").read_text(),
            10,
            "the first signal to be logged",
        )
        process.send_signal(signal.SIGTERM)
        # 128 + SIGTERM: the immediate exit (a graceful stop exits 0 after shutdown_timeout)
        assert process.wait(timeout=10) == 128 + signal.SIGTERM
    finally:
        if process.poll() is None:
            process.kill()
    assert "second SIGTERM: exiting at once" in (tmp_path / "service.log").read_text()


def test_instances_starting_together_upgrade_the_schema_once(postgres_url: str) -> None:
    """Every start runs the migrations: three processes on one new PostgreSQL database at
    once; the first takes an advisory lock, the others find the schema at head (no
    "relation already exists"). Processes, as instances are: Alembic is not thread-safe."""
    code = (
        "from monitor.store.engine import open_engine, upgrade\n"
        f"upgrade(open_engine({postgres_url!r}))\n"
    )
    starts = [
        subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    failures = []
    for process in starts:
        _, stderr = process.communicate(timeout=120)
        if process.returncode:
            failures.append(stderr.decode(errors="replace")[-400:])
    assert failures == []
    engine = open_engine(postgres_url)
    feeds.sync_feeds(engine, [FeedSpec(url="https://example.org/a.xml")], NOW)
    engine.dispose()


# --- monitor status -----------------------------------------------------------------------


def test_status_shows_instances_the_last_cycle_feeds_backlog_and_size(
    database_url: str, config_dir: Path, httpserver: HTTPServer
) -> None:
    site = serve_newsroom(httpserver)
    (config_dir / "feeds.yaml").write_text(f"feeds:\n  - url: {site.zh_feed}\n")
    settings, engine = open_database(config_dir, database_url)
    asyncio.run(run_once(Service(config_dir, settings, engine)))
    now = datetime.now(UTC)
    instances.register(  # one that was killed an hour ago: never stopped, heartbeat old
        engine,
        instance_id="gone",
        host="db-2",
        pid=99,
        version="0.1.0",
        now=now - timedelta(hours=1),
    )

    def status(*args: str) -> str:
        handlers = logging.getLogger().handlers[:]  # the command logs to the runner's stream
        result = CliRunner().invoke(
            app,
            ["--config", str(config_dir), "status", *args],
            env={"MONITOR_DATABASE_URL": database_url, "COLUMNS": "200"},
        )
        logging.getLogger().handlers[:] = handlers
        assert result.exit_code == 0, result.output
        # stdout alone: a traceback a server thread of the newsroom prints (a client gone,
        # BrokenPipeError) lands on stderr, which the runner captures too
        return result.stdout

    record = json.loads(status("--format", "json"))
    states = sorted((i["host"], i["state"]) for i in record["instances"])
    assert ("db-2", "silent") in states and len(states) == 2
    assert [s for h, s in states if h != "db-2"] == ["stopped"]  # run_once has ended
    assert record["alive"] == 0
    cycle = record["last_cycle"]
    assert (cycle["feeds_polled"], cycle["feeds_failed"], cycle["entries_new"]) == (1, 0, 1)
    assert cycle["hits"] >= 2 and cycle["alerts_sent"] == cycle["hits"]  # the log channel
    assert record["feeds"] == {"ok": 1} and record["failing_feeds"] == 0
    assert record["outbox_backlog"] == 0 and record["alerts"] == {"sent": cycle["hits"]}
    assert record["database"]["size_bytes"] > 0
    table = status()
    assert "Instances: 0 alive, 1 stopped" in table and "silent" in table and "db-2" in table
    assert "1 feeds polled (0 failed), 1 new entries" in table
    assert "feeds: 1 ok; failing: 0" in table and "outbox backlog: 0" in table
    assert f"database: {engine.dialect.name}, " in table
    engine.dispose()


def test_sigterm_exits_within_the_bound_while_a_throttled_channel_waits(
    tmp_path: Path, config_dir: Path, httpserver: HTTPServer
) -> None:
    """A channel with `throttle: 600` holds its second message for ten minutes; SIGTERM
    still ends the process within shutdown_timeout (2 s) and a margin, and the message it
    did not send is sent by the next run."""
    hook, received = json_webhook(httpserver)
    (config_dir / "alerts.yaml").write_text(
        f"channels:\n  - url: {hook}\n    name: ops\n    throttle: 600\n"
    )
    settings, engine = open_database(config_dir, f"sqlite:///{tmp_path / 'data' / 'monitor.db'}")
    seeding = Service(config_dir, settings, engine)
    for n in (1, 2):
        seeding.outbox.notify_system("config", f"test:{n}", f"Notice {n}", "body")
    engine.dispose()
    process = _start_service(tmp_path, config_dir, [])
    try:
        wait_until(lambda: len(received) == 1, 60, "the first notice to be sent")
        time.sleep(1)  # the delivery thread is now in Apprise's ten-minute wait
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        assert process.wait(timeout=60) == 0
        assert time.monotonic() - signalled < 2 + 3
    finally:
        if process.poll() is None:
            process.kill()
    log = (tmp_path / "service.log").read_text()
    assert "monitor stopped" in log and "Traceback" not in log
    assert "work still blocked" not in log  # the wait ended with the stop: claims given back
    assert len(received) == 1
    again = _start_service(tmp_path, config_dir, [], "--once")
    assert again.wait(timeout=60) == 0, (tmp_path / "service.log").read_text()
    assert sorted(payload["title"] for payload in received) == [
        "[monitor] Notice 1",
        "[monitor] Notice 2",
    ]


# --- the database lost while running ------------------------------------------------------


def test_a_lost_database_is_one_line_a_failed_poll_and_503_until_it_is_back(
    tmp_path: Path, config_dir: Path, postgres_url: str
) -> None:
    """PostgreSQL refuses the instance's database mid-poll, for several ticks: one line when
    it goes, the poll counted as failed, no traceback per tick, /healthz 503; one line with
    its length when it is back, and /healthz 200 again."""
    name = postgres_url.rsplit("/", 1)[1]
    log = tmp_path / "service.log"

    def admin(sql: str) -> None:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(sql)

    with serving(SlowFeeds(delay=4)) as slow:
        process = _start_service(
            tmp_path, config_dir, [f"{slow.base}/feed.xml"],
            env={"MONITOR_DATABASE_URL": postgres_url},
        )  # fmt: skip
        try:
            port = _serving_port(log, process)
            wait_until(lambda: len(slow.started) == 1, 60, "the poll to reach the server")
            admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            admin(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            )
            try:
                wait_until(
                    lambda: log.read_text().count("database=unavailable") >= 4,
                    60,
                    "four cycles during the outage",
                )
                status, body = _get(port, "/healthz")
                assert status == 503, body
                assert json.loads(body)["status"] == "database unavailable"
                assert [_get(port, "/metrics")[0] for _ in range(3)] == [503] * 3
            finally:
                admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            wait_until(lambda: "database reachable again" in log.read_text(), 30, "recovery")
            assert _get(port, "/healthz")[0] == 200
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
    text = log.read_text()
    assert "Traceback" not in text
    assert text.count(f"database unavailable (PostgreSQL 127.0.0.1:5432/{name}): ") == 1
    assert re.search(r"database reachable again \(PostgreSQL [^)]+\) after \d+ s", text)
    # the poll whose result could not be written counts as failed
    assert "cycle feeds_polled=1 feeds_skipped=0 feeds_failed=1 " in text
    during = text.split("database unavailable (")[1].split("database reachable again")[0]
    others = [line for line in during.splitlines()[1:-1] if "cycle feeds_polled=" not in line]
    assert text.count("metrics unavailable: OperationalError") == 1  # not one per scrape
    assert len(others) <= 3, others  # the poll's line, the metrics' line, at most one more


def test_an_outage_past_the_bound_is_sent_at_once_and_its_end_through_the_outbox(
    config_dir: Path, postgres_url: str
) -> None:
    (config_dir / "alerts.yaml").write_text("channels:\n  - url: json://127.0.0.1:1/ops\n")
    settings, engine = open_database(config_dir, postgres_url)
    clock = Clock(NOW)
    sender = RecordingSender()
    service = Service(config_dir, settings, engine, clock=clock, sender=sender)
    service.register()
    name = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        try:
            service.self_check()
            assert service.health()[0] is False and not sender.sent  # not yet past the bound
            clock.advance(minutes=6)
            service.self_check()
            service.self_check()
            status = service.health()[1]
            assert status["status"] == "database unavailable" and status["database_error"]
            service.unregister()  # a stop during the outage: no error, the stop goes on
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert sender.titles == ["[monitor] Database unavailable"]  # sent once, past the outbox
    assert "unavailable for 6 min 0 s" in sender.sent[0][1].body
    service.self_check()  # a write succeeds, but the stop met the outage since the last check
    assert service.health()[0] is False
    service.self_check()  # a whole tick without a fault: the outage is over
    assert service.health()[0] is True
    service.outbox.deliver()
    assert sender.titles[1:] == ["[monitor] Database reachable again"]
    engine.dispose()


def test_a_full_sqlite_disk_fails_the_poll_in_one_line_without_tracebacks(
    sqlite_url: str,
    config_dir: Path,
    httpserver: HTTPServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """SQLite refusing to grow (SQLITE_FULL, as on a full disk): the feed's new entries
    cannot be stored. The poll fails (`error_category=database`) and counts as failed, the
    outage is one line, and no traceback is logged for it or its entries."""
    site = serve_newsroom(httpserver)
    (config_dir / "feeds.yaml").write_text(f"feeds:\n  - url: {site.en_feed}\n")
    (config_dir / "monitor.yaml").write_text("extract:\n  workers: 1\n")
    settings, engine = open_database(config_dir, sqlite_url)
    service = Service(config_dir, settings, engine)
    feeds.sync_feeds(engine, service.loaded.feeds, datetime.now(UTC))
    with engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

    @event.listens_for(engine, "connect")
    def _full(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    engine.dispose()  # every connection from now on has the cap
    with caplog.at_level(logging.INFO):
        report = asyncio.run(run_once(service))
    assert (report.feeds_polled, report.feeds_failed, report.entries_new) == (1, 1, 0)
    lines = [r.getMessage() for r in caplog.records]
    assert sum(line.startswith("database unavailable (SQLite ") for line in lines) == 1
    assert any("database or disk is full" in line for line in lines)
    assert any("error_category=database" in line for line in lines)
    assert not [r for r in caplog.records if r.exc_info], "no traceback for an outage"
    assert service.health()[1]["status"] == "database unavailable"
    engine.dispose()


class _HangingHook(LoopbackServer):
    """A webhook that takes a minute to answer, counting the requests that reach it."""

    def __init__(self) -> None:
        super().__init__(_Hang)
        self.requests = 0


class _Hang(QuietHandler):
    server: _HangingHook

    def do_POST(self) -> None:
        self.server.requests += 1
        time.sleep(60)


def test_sigterm_exits_within_the_bound_while_a_send_hangs(
    tmp_path: Path, config_dir: Path
) -> None:
    """A channel whose server holds the request (read timeout 120 s): the delivery thread
    cannot be cancelled, so after shutdown_timeout (2 s) and CANCEL_SECONDS the process
    leaves it behind, says so, and exits 0; the notice stays in the outbox."""
    with serving(_HangingHook()) as hook:
        (config_dir / "alerts.yaml").write_text(
            f"channels:\n  - url: {hook.webhook}?rto=120\n    name: ops\n"
        )
        settings, engine = open_database(
            config_dir, f"sqlite:///{tmp_path / 'data' / 'monitor.db'}"
        )
        Service(config_dir, settings, engine).outbox.notify_system("config", "t:1", "Hi", "b")
        process = _start_service(tmp_path, config_dir, [])
        try:
            wait_until(lambda: hook.requests == 1, 60, "the notice to reach the hook")
            process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            assert process.wait(timeout=60) == 0
            assert time.monotonic() - signalled < 2 + lifecycle.CANCEL_SECONDS + 3
        finally:
            if process.poll() is None:
                process.kill()
    log = (tmp_path / "service.log").read_text()
    assert "shutdown: work still blocked in a thread after 7s" in log
    assert "Traceback" not in log
    with Session(engine) as session:
        assert [row.status for row in session.exec(select(MessageRow))] == ["pending"]
    engine.dispose()


def test_run_once_meeting_a_lost_database_exits_1_in_one_line(
    tmp_path: Path, config_dir: Path, postgres_url: str
) -> None:
    name = postgres_url.rsplit("/", 1)[1]
    with serving(SlowFeeds(delay=3)) as slow:
        process = _start_service(
            tmp_path, config_dir, [f"{slow.base}/feed.xml"], "--once",
            env={"MONITOR_DATABASE_URL": postgres_url},
        )  # fmt: skip
        try:
            wait_until(lambda: len(slow.started) == 1, 60, "the poll to reach the server")
            with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
                admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (name,),
                )
                try:
                    assert process.wait(timeout=60) == 1
                finally:
                    admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        finally:
            if process.poll() is None:
                process.kill()
    log = (tmp_path / "service.log").read_text()
    assert "Traceback" not in log
    assert log.count("database unavailable (PostgreSQL") == 2  # the log's line, the exit's
    assert "cycle feeds_polled=1 feeds_skipped=0 feeds_failed=1 " in log
    assert "what was committed is kept, run again when it is back" in log.splitlines()[-1]
