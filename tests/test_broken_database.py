"""A SQLite file that is not a usable database, as operators meet one: a text file or random
bytes where monitor.db should be, a copy cut off half way, pages overwritten. Every command
says in one line which file it is and what to do, exits with status 3, and leaves the file as
it was; the real CLI in a subprocess, on real files."""

from __future__ import annotations

import random
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.errors import DatabaseCorrupt
from monitor.models import FeedSpec
from monitor.store import feeds
from monitor.store.engine import open_engine, upgrade
from tests.conftest import REPO
from tests.test_cli import monitor

pytestmark = pytest.mark.slow  # processes: `make test-quick` skips it

CORRUPT_EXIT = 3


def _real_database(path: Path, feed_count: int = 0) -> None:
    """A migrated database at `path` holding `feed_count` feeds, its WAL folded into the file
    (the last connection closed)."""
    engine = open_engine(f"sqlite:///{path}")
    upgrade(engine)
    specs = [FeedSpec(url=f"https://example.org/{n}.xml") for n in range(feed_count)]
    feeds.sync_feeds(engine, specs, datetime(2026, 6, 1, tzinfo=UTC))
    engine.dispose()
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def text_file(path: Path) -> None:
    path.write_text("feeds:\n  - url: https://example.org/rss\n")  # feeds.yaml, misplaced


def random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(18).randbytes(100))


def truncated(path: Path) -> None:
    """A real database cut to half its size (a copy interrupted, a full disk)."""
    _real_database(path)
    with path.open("r+b") as fh:
        fh.truncate(path.stat().st_size // 2)


def overwritten(path: Path) -> None:
    """A real database of the same size whose second half is garbage: it opens (its first
    pages hold the schema), the statements reading the table stored there fail."""
    _real_database(path, feed_count=3000)
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.seek(size // 2)
        fh.write(b"\xff" * (size // 4))


Breakage = Callable[[Path], None]


def _broken(tmp_path: Path, breakage: Breakage) -> tuple[Path, bytes]:
    database = tmp_path / "data" / "monitor.db"  # the default database_url's file
    database.parent.mkdir()
    breakage(database)
    return database, database.read_bytes()


def _assert_said(result: subprocess.CompletedProcess[str], database: Path) -> None:
    """Exit status 3 and one line naming the file and what to do, no traceback."""
    assert result.returncode == CORRUPT_EXIT, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    [line] = result.stderr.splitlines()  # one line, and nothing else (no log noise)
    assert line.startswith(f"database error: {database} is not a usable SQLite database (")
    assert f'sqlite3 {database} ".recover" | sqlite3 NEW.db' in line  # what to do
    assert "restore it from a backup" in line and "move it away" in line


def _assert_refused(
    result: subprocess.CompletedProcess[str], database: Path, before: bytes
) -> None:
    """Said so, and left the file as it was, with nothing beside it (no -wal, no .lock)."""
    _assert_said(result, database)
    assert database.read_bytes() == before
    assert sorted(p.name for p in database.parent.iterdir()) == ["monitor.db"]


@pytest.mark.parametrize("breakage", [text_file, random_bytes, truncated])
def test_a_broken_database_stops_the_service_with_one_line(
    tmp_path: Path, config_dir: Path, breakage: Breakage
) -> None:
    database, before = _broken(tmp_path, breakage)
    for command in (("run", "--once"), ("status",)):
        result = monitor("--config", str(config_dir), *command, cwd=tmp_path)
        _assert_refused(result, database, before)


def test_damage_past_the_schema_is_told_when_a_statement_meets_it(
    tmp_path: Path, config_dir: Path
) -> None:
    """The file opens (its first pages are whole) and the statements reading the damaged
    pages fail: the same line, from a read as from the service (which wrote to the pages that
    are whole before it met the damage, as SQLite lets it)."""
    database, before = _broken(tmp_path, overwritten)
    for command in (("status",), ("feeds", "list")):
        result = monitor("--config", str(config_dir), *command, cwd=tmp_path)
        _assert_refused(result, database, before)
    _assert_said(monitor("--config", str(config_dir), "run", "--once", cwd=tmp_path), database)


@pytest.mark.parametrize(
    "command",
    [
        ("db", "upgrade"),
        ("db", "prune", "--dry-run", "--older-than", "30d"),
        ("hits",),
        ("search", "cyber"),
        ("feeds", "list"),
        ("alerts", "status"),
        ("profiles", "backtest", "great_firewall"),
        ("web", "--port", "0"),
    ],
    ids=" ".join,
)
def test_every_command_refuses_a_file_that_is_no_database(
    tmp_path: Path, config_dir: Path, command: tuple[str, ...]
) -> None:
    database, before = _broken(tmp_path, text_file)
    result = monitor("--config", str(config_dir), *command, cwd=tmp_path)
    _assert_refused(result, database, before)


def test_the_line_in_the_docs_is_the_one_printed() -> None:
    page = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    error = DatabaseCorrupt("/srv/news/data/monitor.db", "database disk image is malformed")
    assert f"\ndatabase error: {error}\n" in page
