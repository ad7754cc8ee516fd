"""The CLI tells the truth: the database belongs to the configuration (not to the folder a
command runs in) and a command that reads never makes an empty one to report on; `hits`
filters and shows publication dates; CSV lists are text; an OPML import adds the good
outlines and names the bad ones. Real subprocesses over a real SQLite file and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

from monitor.config.feedlist import RejectedOutline, load_feeds, scan_opml
from monitor.models import Article, Entry, FeedSpec, Match
from monitor.store import articles, feeds
from monitor.store.engine import open_engine
from tests.test_cli import monitor

pytestmark = pytest.mark.slow  # processes: `make test-quick` skips it

NO_DATABASE = "no database at {}; run `monitor run` or set MONITOR_DATABASE_URL"
READING = [
    ["hits"],
    ["status"],
    ["feeds", "list"],
    ["feeds", "health"],
    ["alerts", "status"],
    ["alerts", "retry"],
    ["db", "prune", "--dry-run"],
    ["profiles", "backtest", "great_firewall", "--since", "30d"],
]


@pytest.fixture
def project(tmp_path: Path, config_dir: Path) -> Path:
    """A project folder holding config/ (the shipped profiles, no feed), away from tmp_path."""
    folder = tmp_path / "project"
    folder.mkdir()
    shutil.move(config_dir, folder / "config")
    return folder


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """Another folder to run commands in."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("args", READING, ids=" ".join)
def test_reading_commands_refuse_to_make_a_database(
    project: Path, elsewhere: Path, args: list[str]
) -> None:
    done = monitor("--config", str(project / "config"), *args, cwd=elsewhere)
    assert done.returncode == 1, done.stderr
    assert NO_DATABASE.format(project / "data" / "monitor.db") in done.stderr
    assert "0 hit(s)" not in done.stdout and "Traceback" not in done.stderr
    assert list(elsewhere.iterdir()) == []  # was: ./data/monitor.db made here, "0 hit(s)"
    assert not (project / "data").exists()


def test_the_default_database_is_beside_the_configuration(project: Path, elsewhere: Path) -> None:
    config = str(project / "config")
    made = monitor("--config", config, "db", "upgrade", cwd=elsewhere)
    assert made.returncode == 0, made.stderr
    assert (project / "data" / "monitor.db").is_file()
    assert not (elsewhere / "data").exists()  # was: made in the working directory

    read = monitor("--config", config, "hits", cwd=elsewhere)
    assert read.returncode == 0, read.stderr
    assert "0 hit(s)" in read.stdout
    at_home = monitor("hits", cwd=project)  # `make run`: ./config in the project folder
    assert at_home.returncode == 0, at_home.stderr
    assert not (project / "config" / "data").exists()


def test_a_relative_database_url_is_taken_from_the_configurations_folder_too(
    project: Path, elsewhere: Path
) -> None:
    env = {"MONITOR_DATABASE_URL": "sqlite:///state/news.db"}
    made = monitor("--config", str(project / "config"), "db", "upgrade", cwd=elsewhere, env=env)
    assert made.returncode == 0, made.stderr
    assert (project / "state" / "news.db").is_file()
    assert list(elsewhere.iterdir()) == []


def test_a_postgresql_database_without_the_schema_is_no_database(
    config_dir: Path, tmp_path: Path, postgres_url: str
) -> None:
    env = {"MONITOR_DATABASE_URL": postgres_url}
    done = monitor("--config", str(config_dir), "hits", cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stderr
    assert NO_DATABASE.format(postgres_url) in done.stderr
    empty = open_engine(postgres_url)
    try:
        assert inspect(empty).get_table_names() == []  # was: the schema made, "0 hit(s)"
    finally:
        empty.dispose()
    made = monitor("--config", str(config_dir), "db", "upgrade", cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr
    assert monitor("--config", str(config_dir), "hits", cwd=tmp_path, env=env).returncode == 0


def _store(engine: Engine, name: str, published: datetime | None, stored: datetime) -> str:
    """One hit of great_firewall on article `name`; its URL."""
    feeds.sync_feeds(engine, [FeedSpec("https://a.example/rss", "A")], stored)
    feed_id = feeds.feed_rows(engine)["https://a.example/rss"].id or 0
    link = f"https://a.example/story/{name}"
    articles.store_article(
        engine,
        feed_id=feed_id,
        entry=Entry(name, link, name, "summary", published),
        article=Article(link, f"Story {name}", "text", published_at=published),
        matches=[
            Match(
                "great_firewall",
                "v1",
                ["Great Firewall", "GFW"],
                2.0,
                "the **Great Firewall**",
                ("=the **Great Firewall** rises", "a **GFW** rule"),
            )
        ],
        routes={},
        now=stored,
    )
    return link


@pytest.fixture
def stored(engine: Engine, database_url: str) -> dict[str, str]:
    """Four hits: name → URL; published 400 days ago, yesterday, never (undated) — all three
    stored now — and 20 days ago, stored 10 days ago."""
    now = datetime.now(UTC)
    return {
        "old": _store(engine, "old", now - timedelta(days=400), now),
        "fresh": _store(engine, "fresh", now - timedelta(days=1), now),
        "undated": _store(engine, "undated", None, now),
        "late": _store(engine, "late", now - timedelta(days=20), now - timedelta(days=10)),
    }


def _hits(config_dir: Path, cwd: Path, url: str, *args: str) -> set[str]:
    done = monitor(
        "--config",
        str(config_dir),
        "hits",
        "--format",
        "json",
        *args,
        cwd=cwd,
        env={"MONITOR_DATABASE_URL": url},
    )
    assert done.returncode == 0, done.stderr
    return {record["url"].rsplit("/", 1)[1] for record in json.loads(done.stdout)}


def test_since_is_the_publication_date_and_stored_since_the_hits(
    config_dir: Path, tmp_path: Path, database_url: str, stored: dict[str, str]
) -> None:
    assert _hits(config_dir, tmp_path, database_url) == {"old", "fresh", "undated", "late"}
    # was: --since filtered on when the hit was stored, the 400-day-old article included
    assert _hits(config_dir, tmp_path, database_url, "--since", "7d") == {"fresh", "undated"}
    assert _hits(config_dir, tmp_path, database_url, "--stored-since", "7d") == {
        "old",
        "fresh",
        "undated",
    }
    assert _hits(config_dir, tmp_path, database_url, "--since", "30d", "--stored-since", "7d") == {
        "fresh",
        "undated",
    }


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_hits_table_shows_url_and_publication_date(
    config_dir: Path, tmp_path: Path, database_url: str, engine: Engine
) -> None:
    published = datetime(2025, 3, 4, 5, 6, tzinfo=UTC)
    link = _store(engine, "dated", published, datetime.now(UTC))
    env = {"MONITOR_DATABASE_URL": database_url, "COLUMNS": "300"}
    shown = monitor("--config", str(config_dir), "hits", cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    assert link in shown.stdout
    assert "2025-03-04 05:06" in shown.stdout
    assert "published" in shown.stdout and "1 hit(s)" in shown.stdout


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_hits_csv_lists_are_text_and_the_header_is_whole(
    config_dir: Path, tmp_path: Path, database_url: str, stored: dict[str, str]
) -> None:
    cfg = ("--config", str(config_dir))
    env = {"MONITOR_DATABASE_URL": database_url}
    written = monitor(*cfg, "hits", "--format", "csv", cwd=tmp_path, env=env)
    assert written.returncode == 0, written.stderr
    rows = list(csv.DictReader(io.StringIO(written.stdout)))
    assert len(rows) == len(stored)
    for row in rows:
        # was: "['=the **Great Firewall** rises', 'a **GFW** rule']"
        assert row["snippets"] == "'=the **Great Firewall** rises | a **GFW** rule"
        assert row["matched_terms"] == "Great Firewall | GFW"  # was: joined by "; "
    as_json = monitor(*cfg, "hits", "--format", "json", cwd=tmp_path, env=env)
    keys = list(json.loads(as_json.stdout)[0])

    none = monitor(*cfg, "hits", "--format", "csv", "--profile", "nobody", cwd=tmp_path, env=env)
    assert none.returncode == 0, none.stderr
    assert next(csv.reader(io.StringIO(none.stdout))) == keys  # was: "profile" alone
    assert set(rows[0]) == set(keys)


OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
<body>
  <outline text="Good" xmlUrl="https://good.example/rss"/>
  <outline text="Folder">
    <outline text="Nested" xmlUrl="https://nested.example/atom"/>
    <outline text="FTP" xmlUrl="ftp://files.example/feed"/>
  </outline>
  <outline text="Relative" xmlUrl="/feed.xml"/>
  <outline text="No address" type="rss"/>
  <outline text="Last" xmlUrl="https://last.example/rss"/>
</body>
</opml>
"""
NOT_HTTP = "expected an absolute http:// or https:// URL, got"
REJECTED = [
    (7, f"outline 'FTP': {NOT_HTTP} 'ftp://files.example/feed'"),
    (9, f"outline 'Relative': {NOT_HTTP} '/feed.xml'"),
    (10, "outline 'No address': no xmlUrl"),
]


def test_scan_opml_keeps_good_outlines_and_names_bad_ones_by_line(tmp_path: Path) -> None:
    path = tmp_path / "feeds.opml"
    path.write_text(OPML, encoding="utf-8")
    found = scan_opml(path)
    assert [spec.url for spec in found.feeds] == [
        "https://good.example/rss",
        "https://nested.example/atom",
        "https://last.example/rss",
    ]
    assert found.rejected == [RejectedOutline(line, reason) for line, reason in REJECTED]


def test_opml_import_adds_the_good_outlines_and_reports_each_bad_one(
    tmp_path: Path, config_dir: Path
) -> None:
    path = tmp_path / "feeds.opml"
    path.write_text(OPML, encoding="utf-8")
    done = monitor("--config", str(config_dir), "feeds", "import-opml", str(path), cwd=tmp_path)
    assert done.returncode == 1  # was 2, and nothing imported
    assert "3 feed(s) added, 0 already listed, 3 rejected" in done.stdout
    assert done.stderr.splitlines() == [f"{path}:{line}: {reason}" for line, reason in REJECTED]
    assert [spec.url for spec in load_feeds(config_dir)] == [
        "https://good.example/rss",
        "https://nested.example/atom",
        "https://last.example/rss",
    ]
