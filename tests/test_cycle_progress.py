"""The first cycle's progress: its polls counted on a display while the log goes on above it,
in the service (a recording display passed in) and in a real terminal (a pseudo-terminal)."""

from __future__ import annotations

import asyncio
import fcntl
import io
import logging
import os
import pty
import re
import select as polling
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pyte
import pytest
from pytest_httpserver import HTTPServer
from rich.console import Console
from sqlmodel import Session, select

from monitor.cli.common import progress
from monitor.logs import configure_logging
from monitor.runtime import lifecycle
from monitor.runtime.service import Service
from monitor.store.tables import FeedRow
from tests.conftest import REPO, Clock, open_database, wait_until
from tests.loopback import SlowFeeds, serving
from tests.newsroom import serve_newsroom

pytestmark = pytest.mark.slow  # processes, servers or whole cycles: `make test-quick` skips it

WIDTH = 400  # columns of the pseudo-terminal: a poll line fits on one row


class RecordingDisplay:
    """The `progress` seam of monitor.runtime.lifecycle, remembering what it was asked to show."""

    def __init__(self) -> None:
        self.opened: list[tuple[str, int | None]] = []
        self.advanced: list[int] = []
        self.closed = 0

    @contextmanager
    def __call__(self, description: str, total: int | None) -> Iterator[Callable[[int], None]]:
        self.opened.append((description, total))
        try:
            yield self.advanced.append
        finally:
            self.closed += 1


def _two_feeds(config_dir: Path, httpserver: HTTPServer) -> None:
    site = serve_newsroom(httpserver)
    (config_dir / "feeds.yaml").write_text(
        f"feeds:\n  - url: {site.en_feed}\n  - url: {site.zh_feed}\n"
    )
    (config_dir / "monitor.yaml").write_text("server:\n  enabled: false\nextract:\n  workers: 1\n")


def test_run_once_counts_each_due_feed_and_draws_nothing_when_none_is_due(
    sqlite_url: str, config_dir: Path, httpserver: HTTPServer
) -> None:
    _two_feeds(config_dir, httpserver)
    settings, engine = open_database(config_dir, sqlite_url)
    service = Service(config_dir, settings, engine)
    first, second = RecordingDisplay(), RecordingDisplay()

    report = asyncio.run(lifecycle.run_once(service, progress=first))
    asyncio.run(lifecycle.run_once(service, progress=second))  # both polled: none due now
    engine.dispose()

    assert report.feeds_polled == 2 and report.entries_new > 0
    assert first.opened == [("polling feeds", 2)]
    assert first.advanced == [1, 1] and first.closed == 1
    assert second.opened == [] and second.advanced == []


def test_run_forever_counts_the_first_cycle_only(
    sqlite_url: str, config_dir: Path, httpserver: HTTPServer
) -> None:
    _two_feeds(config_dir, httpserver)
    with (config_dir / "monitor.yaml").open("a") as extra:
        extra.write("tick: 0.2s\nshutdown_timeout: 2s\n")
    settings, engine = open_database(config_dir, sqlite_url)
    clock = Clock(datetime.now(UTC))
    service = Service(config_dir, settings, engine, clock=clock)
    display = RecordingDisplay()

    async def two_cycles() -> None:
        running = asyncio.create_task(lifecycle.run_forever(service, progress=display))
        while service.cycles < 1:
            await asyncio.sleep(0.05)
        clock.now += timedelta(days=1)  # both feeds due again for a later cycle
        # the tick after the first cycle may have started before the clock moved (it then
        # finds nothing due): wait for one more, which surely began after it
        while service.cycles < 3:
            await asyncio.sleep(0.05)
        service.stopping.set()
        await asyncio.wait_for(running, timeout=30)

    asyncio.run(two_cycles())
    with Session(engine) as session:
        polls = [row.successful_polls for row in session.exec(select(FeedRow))]
    engine.dispose()
    assert polls == [2, 2]  # a later cycle polled both feeds again, without a display
    assert display.opened == [("polling feeds", 2)]
    assert display.advanced == [1, 1] and display.closed == 1


class _Terminal(io.StringIO):
    """A log stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_log_lines_for_a_terminal_print_above_the_bar_while_it_is_drawn(
    root_logging: None,
) -> None:
    stream = _Terminal()
    configure_logging("INFO", json_lines=False, stream=stream)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    log = logging.getLogger("monitor.test")
    with progress("polling feeds", 2, console=console) as advance:
        log.info("poll feed='one' status=ok")
        advance(1)
    log.info("after the bar")

    drawn = screen.getvalue()
    assert "poll feed='one' status=ok" in drawn  # printed by the bar's console, above it
    assert "poll feed='one'" not in stream.getvalue()  # not written under the bar
    assert stream.getvalue().endswith("monitor.test: after the bar\n")  # handler given back


def test_run_once_in_a_terminal_shows_a_bar_and_every_log_line_whole(
    tmp_path: Path, config_dir: Path, httpserver: HTTPServer
) -> None:
    _two_feeds(config_dir, httpserver)
    with Terminal(tmp_path, config_dir, "run", "--once") as terminal:
        code, output = terminal.finish(seconds=120)
    assert code == 0, output

    assert "polling feeds" in output and "2/2" in output  # the bar was drawn, counted to 2
    assert _cursor_shown(output)  # and the cursor given back
    rows = [row.rstrip() for row in _screen(output)]
    assert not [row for row in rows if "polling feeds" in row]  # erased, nothing left mixed in
    polls = [row for row in rows if "poll feed=" in row]
    assert len(polls) == 2, "\n".join(rows)
    whole = r"^\d\d:\d\d:\d\d INFO    monitor\.poll: poll feed='\S+' status=ok .* duration_ms=\d+$"
    assert all(re.match(whole, row) for row in polls), "\n".join(polls)
    cycle = r"^\S+ INFO    monitor\.service: cycle feeds_polled=2 "
    assert [row for row in rows if re.match(cycle, row)], "\n".join(rows)


def test_no_bar_when_the_log_is_not_on_the_terminal(
    tmp_path: Path, config_dir: Path, httpserver: HTTPServer
) -> None:
    """`monitor run --once | tee run.log`: the log lines would pass through a bar on stderr."""
    _two_feeds(config_dir, httpserver)
    with (
        (tmp_path / "run.log").open("wb") as log,
        Terminal(tmp_path, config_dir, "run", "--once", stdout=log) as terminal,
    ):
        code, on_terminal = terminal.finish(seconds=120)
    logged = (tmp_path / "run.log").read_text()
    assert code == 0, on_terminal + logged
    assert '"message": "cycle feeds_polled=2' in logged  # JSON: the log is not on a terminal
    assert "polling feeds" not in on_terminal and "\x1b[?25l" not in on_terminal


def test_a_second_signal_while_the_bar_is_drawn_exits_at_once_and_gives_the_cursor_back(
    tmp_path: Path, config_dir: Path
) -> None:
    with serving(SlowFeeds()) as server:
        (config_dir / "feeds.yaml").write_text(
            f"feeds:\n  - url: {server.base}/a.xml\n  - url: {server.base}/b.xml\n"
        )
        (config_dir / "monitor.yaml").write_text("server:\n  port: 0\n")
        with Terminal(tmp_path, config_dir, "run") as terminal:
            drawn = terminal.read_until(lambda seen: "polling feeds" in seen, seconds=60)
            wait_until(lambda: len(server.started) == 2, 60, "both polls to reach the server")
            terminal.process.send_signal(signal.SIGTERM)  # the polls get shutdown_timeout (30 s)
            terminal.read_until(lambda seen: "SIGTERM received" in seen, seconds=30)
            terminal.process.send_signal(signal.SIGTERM)
            code, output = terminal.finish(seconds=30)
    assert code == 128 + signal.SIGTERM, output
    assert "\x1b[?25l" in drawn  # the bar hid the cursor...
    assert _cursor_shown(output), repr(output[-3000:])  # ...and exiting at once showed it again


class Terminal:
    """`monitor ARGS` with stdin, stdout and stderr on a pseudo-terminal WIDTH columns wide,
    as a person runs it; what it writes is read as it comes."""

    def __init__(
        self, cwd: Path, config_dir: Path, *args: str, stdout: IO[bytes] | None = None
    ) -> None:
        """`stdout`: where standard output goes instead of the terminal."""
        self._primary, secondary = pty.openpty()
        fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 50, WIDTH, 0, 0))
        env = {key: value for key, value in os.environ.items() if key not in _NOT_A_TERMINAL}
        env.update({"TERM": "xterm-256color", "MONITOR_CONFIG_DIR": ""})
        command = [sys.executable, str(REPO / "run_monitor.py"), "--config", str(config_dir)]
        self.process = subprocess.Popen(
            [*command, *args],
            cwd=cwd,
            stdin=secondary,
            stdout=secondary if stdout is None else stdout,
            stderr=secondary,
            env=env,
        )
        os.close(secondary)  # the child holds it now: reading gives EIO once the child is gone
        self._seen: list[bytes] = []
        self._closed = False

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self._primary)

    @property
    def output(self) -> str:
        return b"".join(self._seen).decode("utf-8", "replace")

    def read_until(self, done: Callable[[str], bool], seconds: float) -> str:
        """Read until `done(output so far)` or the terminal is closed; fail after `seconds`."""
        deadline = time.monotonic() + seconds
        while not done(self.output) and not self._closed:
            ready, _, _ = polling.select([self._primary], [], [], deadline - time.monotonic())
            if not ready:
                raise AssertionError(f"still waiting after {seconds:g} s:\n{self.output}")
            try:
                chunk = os.read(self._primary, 65536)
            except OSError:  # EIO: every writer has closed the terminal
                chunk = b""
            self._seen.append(chunk)
            self._closed = not chunk
        return self.output

    def finish(self, seconds: float) -> tuple[int, str]:
        """Everything written until the command ends, and its exit code."""
        output = self.read_until(lambda seen: False, seconds)
        return self.process.wait(timeout=seconds), output


_NOT_A_TERMINAL = {"NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CI", "COLUMNS"}


def _cursor_shown(output: str) -> bool:
    """Whether the terminal's cursor is visible after `output` (shown after its last hiding)."""
    return output.rfind("\x1b[?25h") > output.rfind("\x1b[?25l")


def _screen(output: str) -> list[str]:
    """The rows a VT100 terminal WIDTH columns wide shows after `output`."""
    screen = pyte.Screen(WIDTH, 400)
    pyte.Stream(screen).feed(output)
    return list(screen.display)
