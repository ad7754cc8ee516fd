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
import struct
import subprocess
import sys
import termios
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyte
from pytest_httpserver import HTTPServer
from rich.console import Console
from sqlmodel import Session, select

from monitor import lifecycle
from monitor.cli.common import progress
from monitor.logs import configure_logging
from monitor.service import Service
from monitor.store.tables import FeedRow
from tests.conftest import REPO, Clock, open_database
from tests.newsroom import serve_newsroom

WIDTH = 400  # columns of the pseudo-terminal: a poll line fits on one row


class RecordingDisplay:
    """The `progress` seam of monitor.lifecycle, remembering what it was asked to show."""

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
        clock.now += timedelta(days=1)  # both feeds due again for the second cycle
        while service.cycles < 2:
            await asyncio.sleep(0.05)
        service.stopping.set()
        await asyncio.wait_for(running, timeout=30)

    asyncio.run(two_cycles())
    with Session(engine) as session:
        polls = [row.successful_polls for row in session.exec(select(FeedRow))]
    engine.dispose()
    assert polls == [2, 2]  # the second cycle polled both feeds again, without a display
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
    """`monitor run --once` with stdout and stderr on a pseudo-terminal, as a person runs it."""
    _two_feeds(config_dir, httpserver)
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 50, WIDTH, 0, 0))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CI"}
    }
    env.update({"TERM": "xterm-256color", "MONITOR_CONFIG_DIR": "", "COLUMNS": str(WIDTH)})
    once = ["run", "--once"]
    process = subprocess.Popen(
        [sys.executable, str(REPO / "run_monitor.py"), "--config", str(config_dir), *once],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
        env=env,
    )
    os.close(secondary)
    try:
        output = _read_until_closed(primary, seconds=120)
        assert process.wait(timeout=30) == 0, output
    finally:
        os.close(primary)
        if process.poll() is None:
            process.kill()

    assert "polling feeds" in output and "2/2" in output  # the bar was drawn, counted to 2
    assert output.rfind("\x1b[?25h") > output.rfind("\x1b[?25l")  # and the cursor given back
    rows = [row.rstrip() for row in _screen(output, WIDTH)]
    assert not [row for row in rows if "polling feeds" in row]  # erased, nothing left mixed in
    polls = [row for row in rows if "poll feed=" in row]
    assert len(polls) == 2, "\n".join(rows)
    whole = r"^\d\d:\d\d:\d\d INFO    monitor\.poll: poll feed='\S+' status=ok .* duration_ms=\d+$"
    assert all(re.match(whole, row) for row in polls), "\n".join(polls)
    assert [
        row
        for row in rows
        if re.match(r"^\S+ INFO    monitor\.service: cycle feeds_polled=2 ", row)
    ]


def _screen(output: str, width: int) -> list[str]:
    """The rows a VT100 terminal `width` columns wide shows after `output`."""
    screen = pyte.Screen(width, 400)
    pyte.Stream(screen).feed(output.replace("\n", "\r\n"))  # a tty's output post-processing
    return list(screen.display)


def _read_until_closed(fd: int, seconds: float) -> str:
    """Everything written to a pseudo-terminal until its last writer closes it."""
    chunks: list[bytes] = []
    while True:
        ready, _, _ = polling.select([fd], [], [], seconds)
        if not ready:
            raise AssertionError("the command wrote nothing for too long: " + repr(chunks[-3:]))
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: every writer has closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")
