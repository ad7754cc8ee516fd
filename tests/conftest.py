"""Shared fixtures: databases (a SQLite file and a throw-away PostgreSQL database), config folders,
a real SMTP server and real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine

from monitor.alerts.compose import Format
from monitor.alerts.compose import Message as AlertMessage
from monitor.config.settings import Settings, load_settings
from monitor.models import ChannelSpec
from monitor.store.engine import open_engine, upgrade

REPO = Path(__file__).resolve().parent.parent
PG_ADMIN_DSN = os.environ.get(
    "MONITOR_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_PG = os.environ.get("MONITOR_TEST_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session", autouse=True)
def _no_user_settings_in_the_environment() -> Iterator[None]:
    """The user's own MONITOR_* variables (a MONITOR_DATABASE_URL or MONITOR_CONFIG_DIR
    exported for their instance) reach neither the code under test nor the processes tests
    start with a copy of os.environ: tests use their own folders and databases only.
    The tests' own variables (MONITOR_TEST_*) stay."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("MONITOR_") and not name.startswith("MONITOR_TEST_"):
                patch.delenv(name)
        yield


def _postgres_unavailable() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_DSN} ({exc.__class__.__name__})"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'monitor.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    reason = _postgres_unavailable()
    if reason:
        if REQUIRE_PG:
            pytest.fail(f"{reason}; MONITOR_TEST_REQUIRE_POSTGRES=1 makes this an error")
        pytest.skip(reason)
    name = f"monitor_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Every test taking this runs on SQLite and on PostgreSQL."""
    url: str = request.getfixturevalue(
        f"{request.param}_url" if request.param == "sqlite" else "postgres_url"
    )
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """The database of `database_url` (SQLite, then PostgreSQL), migrated, closed after."""
    engine = open_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A config folder with the shipped profiles, concepts and model, no feed and no alert channel
    (of the working copy's config/, only those: never its channels, templates or settings)."""
    folder = tmp_path / "config"
    folder.mkdir()
    shutil.copytree(REPO / "config" / "profiles", folder / "profiles")
    for name in ("concepts.yaml", "learned.json"):  # the learned check's model (learned.py)
        if (REPO / "config" / name).exists():
            shutil.copy(REPO / "config" / name, folder / name)
    (folder / "feeds.yaml").write_text("feeds: []\n", encoding="utf-8")
    return folder


@pytest.fixture
def root_logging() -> Iterator[None]:
    """configure_logging replaces the root handlers: put pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, 0022, for the test and the processes it starts: a file made with the
    libraries' defaults would be 0644 under it, so a mode asserted is the project's choice,
    not the shell's umask."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def fresh_python(code: str) -> str:
    """What `code` prints in a new interpreter started in the repository (imports, memory and
    process-wide state of its own); fails the test with its stderr when it fails."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def wait_until(condition: Callable[[], object], seconds: float, what: str) -> None:
    """Return once `condition()` is true; fail the test if it is not within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds:g} s waiting for {what}")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (aiosmtpd cannot listen on port 0)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def open_database(config_dir: Path, database_url: str) -> tuple[Settings, Engine]:
    """The settings of `config_dir` pointed at `database_url`, and that database migrated."""
    settings = load_settings(config_dir, env={"MONITOR_DATABASE_URL": database_url})
    engine = open_engine(settings.database_url)
    upgrade(engine)
    return settings, engine


class Clock:
    """A frozen clock the test moves (the service's `clock` seam)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class RecordingSender:
    """A sender (the outbox's seam) that keeps what it was given instead of sending it."""

    def __init__(self, fmt: Format = "markdown") -> None:
        self.fmt: Format = fmt
        self.sent: list[tuple[str, AlertMessage]] = []

    def send(self, channel: ChannelSpec, message: AlertMessage) -> None:
        self.sent.append((channel.key, message))

    def format_for(self, channel: ChannelSpec) -> Format:
        return self.fmt

    def spacing(self, channel: ChannelSpec) -> float:
        return 0.0  # nothing waits between two recorded messages

    @property
    def titles(self) -> list[str]:
        return [message.title for _, message in self.sent]


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Mailbox]]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 collecting every message it receives."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, mailbox
    finally:
        controller.stop()


def copy_project(target: Path, names: tuple[str, ...]) -> Path:
    """The named files and folders of the working tree (no caches, no results) in `target`:
    a project copy a test may run and change as a user would."""
    ignore = shutil.ignore_patterns("__pycache__", "results", ".hypothesis")
    for name in names:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy(source, target / name)
    return target
