"""kill -9 in the middle of a delivery, then a restart: no alert lost, and the only one sent
twice is the one whose delivery was under way (the documented window, docs/alerts.md)."""

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
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from monitor.store.backlog import alert_counts
from monitor.store.engine import open_engine
from tests.conftest import REPO
from tests.loopback import LoopbackServer, QuietHandler, serving
from tests.newsroom import serve_newsroom

pytestmark = pytest.mark.slow  # processes, servers or whole cycles: `make test-quick` skips it

HOLD_AT = 3  # the receiver keeps the third request waiting: the service is killed meanwhile
REF = re.compile(r"alert-(\d+)")


class Receiver(LoopbackServer):
    """A webhook endpoint (Apprise json://) that records every POST and can hold one open."""

    def __init__(self) -> None:
        super().__init__(_Handler)
        self.payloads: list[dict[str, str]] = []
        self.holding = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()


class _Handler(QuietHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.server.lock:
            self.server.payloads.append(json.loads(body))
            hold = len(self.server.payloads) == HOLD_AT
        if hold:
            self.server.holding.set()
            self.server.release.wait(timeout=60)
        try:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")
        except OSError:
            pass  # the client was killed while we held its request


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    with serving(server, before_stop=server.release.set):
        yield server


def _start(config_dir: Path, cwd: Path, log: Path, database_url: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, str(REPO / "run_monitor.py"), "--config", str(config_dir)],
            cwd=cwd,
            stdout=sink,
            stderr=sink,
            env={
                **os.environ,
                "MONITOR_CONFIG_DIR": "",
                "MONITOR_DATABASE_URL": database_url,
                "MONITOR_SERVER_PORT": "0",  # any free port: never collide with a real one
            },
        )


def _wait(condition: object, process: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    assert callable(condition)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"condition not met; service log:\n{log.read_text(errors='replace')}")


def test_sigkill_mid_delivery_loses_nothing_and_repeats_only_the_one_in_flight(
    tmp_path: Path, config_dir: Path, httpserver: HTTPServer, receiver: Receiver
) -> None:
    site = serve_newsroom(httpserver)
    (config_dir / "feeds.yaml").write_text(
        f"feeds:\n  - url: {site.en_feed}\n  - url: {site.zh_feed}\n", encoding="utf-8"
    )
    (config_dir / "monitor.yaml").write_text("tick: 1s\nextract:\n  workers: 1\n")
    (config_dir / "alerts.yaml").write_text(
        # one message per alert (not per article): the window is one message, one alert
        f"channels:\n  - url: {receiver.webhook}\n    name: hook\n    group: profile\n"
    )
    database_url = f"sqlite:///{tmp_path / 'monitor.db'}"
    log = tmp_path / "service.log"

    first = _start(config_dir, tmp_path, log, database_url)
    try:
        _wait(receiver.holding.is_set, first, log, seconds=120)
        first.send_signal(signal.SIGKILL)  # between the channel's answer and our record of it
        assert first.wait(timeout=30) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
    in_flight = REF.findall(receiver.payloads[HOLD_AT - 1]["message"])
    receiver.release.set()

    engine = open_engine(database_url)
    counts = alert_counts(engine)
    assert counts.get("sent") == HOLD_AT - 1  # the two answered before the kill were recorded
    total = sum(counts.values())
    assert total > HOLD_AT

    second = _start(config_dir, tmp_path, log, database_url)
    try:
        _wait(lambda: alert_counts(engine) == {"sent": total}, second, log, seconds=120)
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
    finally:
        if second.poll() is None:
            second.kill()
    engine.dispose()

    received = Counter(ref for p in receiver.payloads for ref in REF.findall(p["message"]))
    assert len(received) == total  # every alert arrived …
    repeated = {ref for ref, n in received.items() if n > 1}
    assert repeated == set(in_flight)  # … once, but for the one killed in flight
    assert received[in_flight[0]] == 2
    assert "Traceback" not in log.read_text(errors="replace")
