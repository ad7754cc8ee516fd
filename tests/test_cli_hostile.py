"""Feed text is written by strangers: `monitor hits` and `monitor feeds` show it as text (no
rich markup, no control characters), CSV cells never start a formula, and a feed URL's
credentials show as ****. Real subprocesses over a SQLite file filled by the real store."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from monitor.models import Article, Entry, FeedSpec, Match, PollRecord, PollResult
from monitor.store import articles, feeds
from tests.conftest import open_database
from tests.test_cli import monitor

pytestmark = pytest.mark.slow  # processes: `make test-quick` skips it

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
FEED = "https://a.example/rss"
CLOSE_TAG = "[/bold]x"
LINK = "[link=http://evil.example]click[/link]"
ESCAPES = (
    "Before \x1b]0;pwned\x07 \x1b[2J \x1b]8;;http://evil.example\x1b\\here\x1b]8;;\x1b\\ "
    "\x9b31m \u202eevil\u202c after"
)
FEED_TITLE = "[bold]Evil[/bold] \x1b]0;feed\x07 Daily"
PASSWORD = "hunter2-Secret"
TOKEN = "tok-8f2a9c41d7"
SECRET_FEED = f"https://reader:{PASSWORD}@feeds.example/rss?token={TOKEN}&lang=en"
FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+2", "-2+3", "@SUM(A1)", "\tTab", "\r=1"]

Store = Callable[[Iterable[str]], dict[str, str]]


@pytest.fixture
def store_hits(config_dir: Path, sqlite_url: str) -> Store:
    """Store one hit per title on a feed titled FEED_TITLE; the CLI's environment for it."""

    def store(titles: Iterable[str]) -> dict[str, str]:
        _, engine = open_database(config_dir, sqlite_url)
        try:
            feed_id = _feed(engine, FeedSpec(FEED), title=FEED_TITLE)
            for n, title in enumerate(titles):
                _hit(engine, feed_id, n, title)
        finally:
            engine.dispose()
        return {"MONITOR_DATABASE_URL": sqlite_url, "COLUMNS": "300"}

    return store


def _feed(engine: Engine, spec: FeedSpec, *, title: str | None = None, error: str = "") -> int:
    """The feed's row id, after one stored poll: ok with `title`, or failed with `error`."""
    feeds.sync_feeds(engine, [spec], NOW)
    feed_id = feeds.feed_rows(engine)[spec.url].id or 0
    result = (
        PollResult(spec.url, "error", http_status=401, error=error, error_category="http_4xx")
        if error
        else PollResult(spec.url, "ok", http_status=200, title=title)
    )
    record = PollRecord(feed_id, result, NOW, NOW + timedelta(hours=1))
    feeds.record_polls(engine, [record])
    return feed_id


def _hit(engine: Engine, feed_id: int, n: int, title: str) -> None:
    link = f"https://a.example/story/{n}"
    articles.store_article(
        engine,
        feed_id=feed_id,
        entry=Entry(f"g{n}", link, title, "summary", NOW),
        article=Article(link, title, "text about the Great Firewall"),
        matches=[Match("gfw", "v1", ["Great Firewall"], 1.0, "the **Great Firewall**")],
        routes={},
        now=NOW + timedelta(minutes=n),
    )


def _no_control_characters(output: str) -> None:
    for char in ("\x1b", "\x07", "\x9b", "\u202e", "\u202c"):
        assert char not in output, repr(char)


def test_hits_table_shows_feed_text_literally(
    tmp_path: Path, config_dir: Path, store_hits: Store
) -> None:
    env = store_hits([CLOSE_TAG, LINK, ESCAPES])
    shown = monitor("--config", str(config_dir), "hits", cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr  # was: MarkupError on every run
    assert "3 hit(s)" in shown.stdout
    assert CLOSE_TAG in shown.stdout and LINK in shown.stdout
    assert "[bold]Evil[/bold] ]0;feed Daily" in shown.stdout  # the feed's title, as text
    assert "Before ]0;pwned [2J ]8;;http://evil.example\\here]8;;\\ 31m evil after" in (
        shown.stdout
    )
    _no_control_characters(shown.stdout)


def test_hits_on_a_terminal_make_no_link_title_or_cleared_screen(
    tmp_path: Path, config_dir: Path, store_hits: Store
) -> None:
    env = store_hits([LINK, ESCAPES])
    shown = monitor(
        "--config", str(config_dir), "hits", cwd=tmp_path, env={**env, "FORCE_COLOR": "1"}
    )
    assert shown.returncode == 0, shown.stderr
    assert "\x1b[" in shown.stdout  # a terminal: rich's own colours are there
    for sequence in ("\x1b]8;", "\x1b]0;", "\x1b[2J", "\x9b", "\u202e"):
        assert sequence not in shown.stdout, repr(sequence)
    assert LINK in shown.stdout


def test_hits_csv_neutralises_formulas_and_drops_control_characters(
    tmp_path: Path, config_dir: Path, store_hits: Store
) -> None:
    env = store_hits([*FORMULAS, ESCAPES, "Plain - title"])
    written = monitor("--config", str(config_dir), "hits", "--format", "csv", cwd=tmp_path, env=env)
    assert written.returncode == 0, written.stderr
    _no_control_characters(written.stdout)
    rows = list(csv.DictReader(io.StringIO(written.stdout)))
    titles = {row["title"] for row in rows}
    assert titles == {
        '\'=HYPERLINK("http://evil.example","x")',
        "'+1+2",
        "'-2+3",
        "'@SUM(A1)",
        "'\tTab",
        "'=1",  # the carriage return dropped, the formula behind it neutralised
        "Before ]0;pwned [2J ]8;;http://evil.example\\here]8;;\\ 31m evil after",
        "Plain - title",
    }
    for row in rows:
        assert row["score"] == "1.0"  # the monitor's own number stays a number
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_feeds_list_and_health_mask_credentials_and_show_errors_as_text(
    tmp_path: Path, config_dir: Path, sqlite_url: str
) -> None:
    (config_dir / "feeds.yaml").write_text(f"feeds:\n  - url: '{SECRET_FEED}'\n")
    reason = "Unauthorized [/bold] \x1b]0;owned\x07"  # the server's HTTP reason phrase
    _, engine = open_database(config_dir, sqlite_url)
    try:
        feed_id = _feed(engine, FeedSpec(SECRET_FEED), error=f"{SECRET_FEED}: HTTP 401 {reason}")
        _hit(engine, feed_id, 0, "A story")
    finally:
        engine.dispose()
    cfg = ("--config", str(config_dir))
    env = {"MONITOR_DATABASE_URL": sqlite_url, "COLUMNS": "400"}
    redacted = "https://reader:****@feeds.example/rss?token=****&lang=en"

    listed = monitor(*cfg, "feeds", "list", cwd=tmp_path, env=env)
    health = monitor(*cfg, "feeds", "health", cwd=tmp_path, env=env)
    as_json = monitor(*cfg, "feeds", "health", "--format", "json", cwd=tmp_path, env=env)
    as_csv = monitor(*cfg, "hits", "--format", "csv", cwd=tmp_path, env=env)
    for done in (listed, health, as_json, as_csv):
        assert done.returncode == 0, done.stderr
        assert PASSWORD not in done.stdout + done.stderr
        assert TOKEN not in done.stdout + done.stderr
        _no_control_characters(done.stdout)
    assert redacted in listed.stdout
    assert f"error: {redacted}: HTTP 401 Unauthorized [/bold] ]0;owned" in listed.stdout
    assert f"{redacted}" in health.stdout
    assert f"http_4xx: {redacted}: HTTP 401 Unauthorized [/bold]" in health.stdout
    [record] = json.loads(as_json.stdout)
    assert record["url"] == redacted
    assert record["error"] == f"{redacted}: HTTP 401 {reason}"  # JSON escapes the controls
    [row] = csv.DictReader(io.StringIO(as_csv.stdout))
    assert row["feed"] == redacted  # a feed without a name or title is shown by its URL
