"""Tests and benchmarks never touch the user's channels or data.

The working tree is copied and the copy given a user: in config/ an alert channel (a webhook)
and a feed, both on a loopback server that records every request, a template override and
settings pointing at the user's database in data/; and MONITOR_CONFIG_DIR and
MONITOR_DATABASE_URL exported for that instance, as in the user's shell. Then the benchmark
smoke tests, the CLI and end-to-end tests and one benchmark run in the copy. Afterwards the
user's server has had no request, and the copy's config/ and data/ are byte for byte as
they were (the database is in rollback-journal mode: any connection the monitor opens would
switch it to WAL, changing its header)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import copy_project
from tests.loopback import LoopbackServer, QuietHandler, serving

pytestmark = pytest.mark.slow  # processes, servers or whole cycles: `make test-quick` skips it

TREE = ("monitor", "tests", "benchmarks", "config", "pyproject.toml", "run_monitor.py")
SUITES = (
    "tests/test_bench_pipeline.py",
    "tests/test_bench_baselines.py",
    "tests/test_cli.py",
    "tests/test_end_to_end.py",
)
BENCHMARK = ("-m", "benchmarks.pipeline", "--quick")
USER_TITLE = "The user's own alert title"
FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>The user's feed</title>
<item><title>Great Firewall blocks more VPNs</title><link>http://127.0.0.1/story</link>
<description>China's Great Firewall and its censorship of the internet.</description></item>
</channel></rss>"""


class UserServer(LoopbackServer):
    """The user's world on loopback: their feed (GET) and their webhook (POST), each request
    recorded as "METHOD path"."""

    def __init__(self) -> None:
        super().__init__(_UserHandler)
        self.requests: list[str] = []


class _UserHandler(QuietHandler):
    server: UserServer

    def do_GET(self) -> None:
        self.server.requests.append(f"GET {self.path}")
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.end_headers()
        self.wfile.write(FEED)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append(f"POST {self.path} {body[:100]!r}")
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")


def give_a_user(copy: Path, user: UserServer) -> Path:
    """The copy's config/ and data/ as a user's: a channel and a feed on `user`, a template
    override, the shipped settings with the database at an absolute path; the database,
    holding a row of the user's. Its path."""
    config = copy / "config"
    (config / "alerts.yaml").write_text(
        f"channels:\n  - url: {user.webhook}\n    name: user-hook\n", encoding="utf-8"
    )
    (config / "feeds.yaml").write_text(
        f"feeds:\n  - url: {user.base}/user-feed.xml\n    name: The user's feed\n",
        encoding="utf-8",
    )
    (config / "templates").mkdir(exist_ok=True)
    (config / "templates" / "alert.title.j2").write_text(USER_TITLE, encoding="utf-8")
    database = copy / "data" / "monitor.db"
    settings = (config / "monitor.yaml").read_text(encoding="utf-8")
    shipped = "database_url: sqlite:///data/monitor.db"
    assert shipped in settings, "the shipped monitor.yaml changed: update this test"
    settings = settings.replace(shipped, f"database_url: sqlite:///{database}")
    (config / "monitor.yaml").write_text(settings, encoding="utf-8")
    database.parent.mkdir()
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE user_data (note TEXT)")
        conn.execute("INSERT INTO user_data VALUES ('the user''s hits')")
    conn.close()
    return database


def snapshot(*folders: Path) -> dict[str, bytes]:
    """Every file under `folders`, by path, with its bytes."""
    return {
        str(path): path.read_bytes()
        for folder in folders
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def run_in(copy: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`python ARGS` in the copy, with the copy's code first on the path."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.timeout(900)
def test_tests_and_benchmarks_leave_the_users_channels_and_data_alone(tmp_path: Path) -> None:
    copy = copy_project(tmp_path / "tree", TREE)
    with serving(UserServer()) as user:
        database = give_a_user(copy, user)
        before = snapshot(copy / "config", copy / "data")
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")},
            "PYTHONPATH": str(copy),
            "MONITOR_CONFIG_DIR": str(copy / "config"),  # the user's shell, pointing at …
            "MONITOR_DATABASE_URL": f"sqlite:///{database}",  # … their own instance
        }
        suites = run_in(
            copy, env, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            f"--basetemp={tmp_path / 'basetemp'}", *SUITES,
        )  # fmt: skip
        benchmark = run_in(copy, env, *BENCHMARK)
        reached = list(user.requests)
    print(f"in the copy: {(suites.stdout.strip().splitlines() or ['no output'])[-1]}")

    assert reached == [], f"the user's feed or channel got {len(reached)} requests: {reached[:3]}"
    after = snapshot(copy / "config", copy / "data")
    changed = sorted(
        path for path in before.keys() | after.keys() if before.get(path) != after.get(path)
    )
    assert changed == [], "the user's config/ or data/ changed"
    # … and the runs did run: pytest collected and ran the suites (a test failing for a
    # reason of its own is that test's business), the benchmark completed a cycle
    assert suites.returncode in (0, 1), suites.stdout[-3000:] + suites.stderr[-3000:]
    assert " passed" in suites.stdout, suites.stdout[-3000:]
    assert benchmark.returncode == 0, benchmark.stdout[-3000:] + benchmark.stderr[-3000:]
    assert "pipeline sqlite" in benchmark.stdout
