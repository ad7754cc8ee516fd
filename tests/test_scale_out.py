"""Three `monitor run` processes share one PostgreSQL database: 300 feeds, two rounds of new
entries, one process killed with SIGKILL in the middle of its first cycle and restarted.
Every entry is stored once and every alert reaches the webhook once."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from monitor.store.engine import open_engine
from monitor.store.tables import AlertRow, EntryRow, FeedRow, HitRow
from tests.conftest import REPO, wait_until
from tests.loopback import LoopbackServer, QuietHandler, serving

pytestmark = pytest.mark.slow  # processes, servers or whole cycles: `make test-quick` skips it

FEEDS = 300
PER_ROUND = 2  # new entries per feed and round
REF = re.compile(r"ref (alert|message)\\?-(\d+)")  # "ref alert-12"; Markdown: alert\-12


class Farm(LoopbackServer):
    """Feeds /feed/N.xml, each listing PER_ROUND entries per round so far (slow enough that a
    cycle lasts seconds); and the alert webhook /hook, which answers 503 until `accepting`,
    so nothing counts as delivered before the kill, and records what it accepted."""

    def __init__(self) -> None:
        super().__init__(_Handler)
        self.round = 1
        self.published = format_datetime(datetime.now(UTC))
        self.polls: list[tuple[int, float]] = []  # (feed number, time.monotonic())
        self.accepting = False
        self.accepted: Counter[str] = Counter()
        self.lock = threading.Lock()

    def feed(self, number: int) -> bytes:
        items = "".join(
            f"<item><guid>f{number}-e{n}</guid><title>Feed {number} entry {n}</title>"
            f"<pubDate>{self.published}</pubDate><description>Item {n} of feed {number}: the "
            f"Great Firewall blocked service {number * 100 + n} this week.</description></item>"
            for n in range(self.round * PER_ROUND)
        )
        channel = f"<channel><title>Feed {number}</title>{items}</channel>"
        return f"<rss version='2.0'>{channel}</rss>".encode()


class _Handler(QuietHandler):
    server: Farm

    def do_GET(self) -> None:
        number = int(self.path.removeprefix("/feed/").removesuffix(".xml"))
        with self.server.lock:
            self.server.polls.append((number, time.monotonic()))  # when the request came
        time.sleep(0.05)
        body = self.server.feed(number)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # a killed client

    def do_POST(self) -> None:
        payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        with self.server.lock:
            accepted = self.server.accepting
            if accepted:
                found = REF.findall(payload.get("message", ""))
                self.server.accepted.update(f"{kind}-{number}" for kind, number in found)
        try:
            self.send_response(200 if accepted else 503)
            self.end_headers()
        except OSError:
            pass  # a killed client


@pytest.fixture
def farm() -> Iterator[Farm]:
    with serving(Farm()) as server:
        yield server


def first_poller(folder: Path, names: list[str]) -> str:
    """The first instance whose log shows five feed polls."""
    found: list[str] = []

    def polling() -> bool:
        found.extend(
            name
            for name in names
            if (folder / f"{name}.log").read_text().count('"logger": "monitor.poll"') >= 5
        )
        return bool(found)

    wait_until(polling, 120, "an instance to poll")
    return found[0]


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    opened = open_engine(postgres_url)
    try:
        yield opened
    finally:
        opened.dispose()


def test_three_instances_share_the_feeds_and_survive_a_kill(
    tmp_path: Path, config_dir: Path, postgres_url: str, farm: Farm, engine: Engine
) -> None:
    feeds = "".join(f"  - url: {farm.base}/feed/{n}.xml\n" for n in range(FEEDS))
    (config_dir / "feeds.yaml").write_text("feeds:\n" + feeds)
    (config_dir / "alerts.yaml").write_text(
        f"channels:\n  - url: json://127.0.0.1:{farm.server_address[1]}/hook\n"
    )
    (config_dir / "monitor.yaml").write_text(
        "tick: 1s\npoll_interval: 60s\nlease: 15s\nshutdown_timeout: 5s\n"
        "fetch:\n  concurrency: 4\n  per_host: 4\nextract:\n  workers: 1\n"
        "alerts:\n  retry_delay: 1s\n  max_attempts: 100\n  debounce_count: 0\n"
        "  spike_min_hits: 100000\nserver:\n  port: 0\n"
    )
    env = {**os.environ, "MONITOR_CONFIG_DIR": "", "MONITOR_DATABASE_URL": postgres_url}

    def count(query: object) -> int:
        with Session(engine) as session:
            return int(session.exec(query).one())  # type: ignore[call-overload]

    def start(name: str) -> subprocess.Popen[bytes]:
        with (tmp_path / f"{name}.log").open("ab") as log:
            return subprocess.Popen(
                [sys.executable, str(REPO / "run_monitor.py"), "--config", str(config_dir)],
                cwd=tmp_path,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )

    entries = select(func.count()).select_from(EntryRow)
    sent = select(func.count()).select_from(AlertRow).where(AlertRow.status == "sent")
    alerts = select(func.count()).select_from(AlertRow)
    claimed_unpolled = (
        select(func.count())
        .select_from(FeedRow)
        .where(col(FeedRow.lease_until).is_not(None), col(FeedRow.last_polled_at).is_(None))
    )
    processes = {name: start(name) for name in ("a", "b", "c")}
    try:
        # SIGKILL the first instance seen polling, in the middle of its first batch
        victim = first_poller(tmp_path, list(processes))
        processes[victim].kill()
        killed_at = time.monotonic()
        processes[victim].wait(timeout=10)
        assert count(claimed_unpolled) > 0  # it died holding feeds it had not polled
        processes[victim] = start(f"{victim}-restarted")
        wait_until(lambda: count(entries) == FEEDS * PER_ROUND, 120, "every round-1 entry")
        farm.accepting = True  # from now on deliveries succeed (retried every second)
        farm.round = 2  # new entries, seen when the feeds are due again (poll_interval)
        wait_until(lambda: count(entries) == 2 * FEEDS * PER_ROUND, 180, "every round-2 entry")
        wait_until(lambda: count(sent) == count(alerts), 120, "every alert sent")
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        codes = {name: process.wait(timeout=60) for name, process in processes.items()}
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
    logs = {path.name: path.read_text() for path in tmp_path.glob("*.log")}
    assert codes == {"a": 0, "b": 0, "c": 0}
    for name, log in logs.items():
        assert "Traceback" not in log, name

    total = 2 * FEEDS * PER_ROUND
    assert count(entries) == total  # each entry stored once (and none lost)
    with Session(engine) as session:
        alert_ids = set(session.exec(select(AlertRow.id)).all())
    hits = select(func.count()).select_from(HitRow)
    assert len(alert_ids) == count(hits) >= total  # one alert per hit, the one channel
    received = {ref: n for ref, n in farm.accepted.items() if ref.startswith("alert-")}
    assert set(received) == {f"alert-{n}" for n in alert_ids}
    assert [ref for ref, n in received.items() if n > 1] == []  # each alert delivered once
    # no feed polled twice in a cycle: a second poll less than poll_interval after the first
    # only for a feed fetched before the kill and polled again after it (the killed instance
    # had not written its result; its lease ran out)
    by_feed: dict[int, list[float]] = {}
    for number, moment in farm.polls:
        by_feed.setdefault(number, []).append(moment)
    early = [
        (number, first, then)
        for number, moments in by_feed.items()
        for first, then in zip(sorted(moments), sorted(moments)[1:], strict=False)
        if then - first < 50
    ]
    # a poll the victim sent just before it died can reach the farm's handler, which records
    # the moment, a little after the kill on a busy machine
    in_flight = 2.0
    assert all(first < killed_at + in_flight and killed_at < then for _, first, then in early), (
        early
    )
    assert len(by_feed) == FEEDS
    # the work was shared: more than one process polled feeds
    pollers = [n for n, log in logs.items() if log.count('"logger": "monitor.poll"') >= 10]
    assert len(pollers) >= 2, pollers
