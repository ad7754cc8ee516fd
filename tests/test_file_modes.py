"""Who may read the files the monitor writes: the SQLite database (the archive, what the
channels were sent), its -wal and -shm files and the instance lock are made 0600; feeds.yaml
written back by `monitor feeds add` keeps its mode, owner and group. Real files, under the
usual umask (0022), under which the libraries' own defaults would give 0644."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor.config.feedlist import add_feeds, load_feeds, remove_feed
from monitor.models import FeedSpec
from monitor.store.engine import open_engine, upgrade
from monitor.store.instancelock import InstanceLock

pytestmark = pytest.mark.usefixtures("umask_022")
URL = "https://b.example/rss"


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


def _feeds_file(folder: Path, file_mode: int) -> Path:
    path = folder / "feeds.yaml"
    path.write_text("feeds:\n  - url: https://a.example/rss\n", encoding="utf-8")
    path.chmod(file_mode)
    return path


@pytest.mark.slow
def test_feeds_add_keeps_a_private_feeds_yaml_private(tmp_path: Path, config_dir: Path) -> None:
    path = _feeds_file(config_dir, 0o600)
    added = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config_dir), "feeds", "add", URL],
        cwd=tmp_path,
        env={**os.environ, "MONITOR_CONFIG_DIR": ""},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    assert URL in path.read_text(encoding="utf-8")
    assert mode(path) == 0o600


@pytest.mark.parametrize("file_mode", [0o600, 0o640, 0o664, 0o444], ids=oct)
def test_writing_feeds_yaml_back_keeps_its_mode(tmp_path: Path, file_mode: int) -> None:
    """0664 and 0444 too: bits the umask would clear, and a file its owner may not write (the
    folder is what the rename needs)."""
    path = _feeds_file(tmp_path, file_mode)
    add_feeds(tmp_path, [FeedSpec("https://b.example/rss")])
    assert mode(path) == file_mode
    assert remove_feed(tmp_path, "https://a.example/rss")
    assert mode(path) == file_mode
    assert [f.url for f in load_feeds(tmp_path)] == ["https://b.example/rss"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feeds.yaml"]  # no temporary left


def test_a_new_feeds_yaml_gets_the_umask_default(tmp_path: Path) -> None:
    add_feeds(tmp_path, [FeedSpec("https://b.example/rss")])
    assert mode(tmp_path / "feeds.yaml") == 0o644


def test_a_temporary_left_by_a_crash_lends_the_new_file_nothing(tmp_path: Path) -> None:
    path = _feeds_file(tmp_path, 0o600)
    stale = tmp_path / "feeds.yaml.tmp"
    stale.write_text("half a file")
    stale.chmod(0o666)
    add_feeds(tmp_path, [FeedSpec("https://b.example/rss")])
    assert mode(path) == 0o600
    assert not stale.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root may give a file to another user")
def test_writing_feeds_yaml_back_keeps_its_owner_and_group(tmp_path: Path) -> None:
    path = _feeds_file(tmp_path, 0o640)
    os.chown(path, 4242, 4343)
    add_feeds(tmp_path, [FeedSpec("https://b.example/rss")])
    assert (path.stat().st_uid, path.stat().st_gid) == (4242, 4343)
    assert mode(path) == 0o640


def test_a_feeds_yaml_that_is_a_link_stays_a_link(tmp_path: Path) -> None:
    """A configuration folder whose feeds.yaml links to a file kept elsewhere (/etc, a
    checkout): the file it points at is written, the link stays."""
    shared = tmp_path / "shared"
    shared.mkdir()
    target = _feeds_file(shared, 0o600)
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "feeds.yaml").symlink_to(target)
    add_feeds(folder, [FeedSpec("https://b.example/rss")])
    assert (folder / "feeds.yaml").is_symlink()
    assert "https://b.example/rss" in target.read_text(encoding="utf-8")
    assert mode(target) == 0o600
