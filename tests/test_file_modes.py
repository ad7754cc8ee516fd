"""Who may read the files the monitor writes: the SQLite database (the archive, what the
channels were sent), its -wal and -shm files and the instance lock are made 0600. Real files,
under the usual umask (0022), under which the libraries' own defaults would give 0644."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor.store.engine import open_engine, upgrade
from monitor.store.instancelock import InstanceLock

pytestmark = pytest.mark.usefixtures("umask_022")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_its_wal_and_its_lock_are_the_owners_only(tmp_path: Path) -> None:
    database = tmp_path / "data" / "monitor.db"
    engine = open_engine(f"sqlite:///{database}", create=True)
    upgrade(engine)
    with engine.connect() as conn, InstanceLock(engine) as lock:
        conn.execute(text("SELECT count(*) FROM feed"))  # the WAL and its index are open
        made = {p.name: mode(p) for p in database.parent.iterdir()}
        assert lock.path == database.with_name("monitor.db.lock")
    engine.dispose()
    assert made == {
        "monitor.db": 0o600,
        "monitor.db-wal": 0o600,
        "monitor.db-shm": 0o600,
        "monitor.db.lock": 0o600,
    }


def test_an_existing_database_keeps_the_mode_it_was_given(tmp_path: Path) -> None:
    """0600 is for a file the monitor makes; one an operator made 0640 (a backup user in the
    group) stays so."""
    database = tmp_path / "monitor.db"
    engine = open_engine(f"sqlite:///{database}")
    upgrade(engine)
    engine.dispose()
    database.chmod(0o640)
    engine = open_engine(f"sqlite:///{database}")
    upgrade(engine)
    engine.dispose()
    assert mode(database) == 0o640


def test_opening_without_create_makes_no_file(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'monitor.db'}", create=False)
    engine.dispose()
    assert list(tmp_path.iterdir()) == []
