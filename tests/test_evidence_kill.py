"""kill -9 during a re-check (`monitor evidence recheck --all` in its own process, killed while
the site holds one of its requests), then a re-check in another process: nothing is lost (the
held article is re-checked and recorded once) and nothing is announced twice (each edit and
removal reaches the webhook once), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
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
from werkzeug import Request, Response

from monitor.runtime.lifecycle import recheck_once, run_once
from monitor.runtime.service import Service
from tests.conftest import REPO, open_database
from tests.test_evidence_recheck import Site, _configure, _serve, _states

pytestmark = pytest.mark.slow  # processes, servers and whole cycles

HELD = "steady"  # its re-check is under way when the process is killed


class HoldingSite(Site):
    def __init__(self, server: HTTPServer) -> None:
        super().__init__(server)
        self.holding = threading.Event()
        self.release = threading.Event()

    def page(self, request: Request) -> Response:
        if self.phase != "original" and request.path.endswith(f"/{HELD}.html"):
            self.holding.set()
            self.release.wait(timeout=60)
        return super().page(request)


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    server = HTTPServer(threaded=True)  # a held request must not hold the others
    server.start()
    yield server
    server.clear()
    server.stop()


def test_a_killed_recheck_loses_nothing_and_announces_nothing_twice(
    database_url: str, config_dir: Path, threaded_server: HTTPServer, tmp_path: Path
) -> None:
    site = HoldingSite(threaded_server)
    _serve(threaded_server, site)
    _configure(config_dir, site, database_url)
    with (config_dir / "monitor.yaml").open("a", encoding="utf-8") as extra:
        extra.write("lease: 2s\n")  # a dead process's claims expire quickly
    settings, engine = open_database(config_dir, database_url)
    asyncio.run(run_once(Service(config_dir, settings, engine)))
    alerts = len(site.notices)

    site.phase = "after"
    log = tmp_path / "recheck.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "monitor",
                "--config",
                str(config_dir),
                "evidence",
                "recheck",
                "--all",
            ],
            cwd=REPO,
            stdout=sink,
            stderr=sink,
            env={**os.environ, "MONITOR_CONFIG_DIR": ""},
        )
    try:
        assert site.holding.wait(timeout=60), log.read_text()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        site.release.set()
        if process.poll() is None:
            process.kill()
    time.sleep(2.5)  # its leases expire

    asyncio.run(recheck_once(Service(config_dir, settings, engine), everything=True))
    states = _states(engine, site)
    assert states[HELD] == ["original", "unchanged"]  # re-checked once, after the kill
    assert all(len(kinds) >= 2 for name, kinds in states.items() if name != "flaky"), states
    assert states["flaky"] == ["original"]  # failures are tried again, never reported yet
    titles = Counter(n["title"] for n in site.notices[alerts:])
    assert len(titles) == 6 and set(titles.values()) == {1}, titles
    engine.dispose()
