"""Retention on SQLite and PostgreSQL: old article text, signatures and story bands go, in
batches and once only; titles, entries, hits with their snippets and alerts stay; the database
size is reported; `monitor db prune` counts, prunes and refuses to when retention is forever."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, func, select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.ingest.minhash import signature
from monitor.models import Article, Entry, FeedSpec, Match, Route
from monitor.pipeline.stories import BANDS, bands
from monitor.store import backlog, feeds
from monitor.store.articles import store_article
from monitor.store.engine import open_engine
from monitor.store.hits import query_hits
from monitor.store.retention import (
    PruneReport,
    count_prunable,
    database_size,
    prune,
    vacuum,
)
from monitor.store.search import ArticleFilter, candidates
from monitor.store.tables import ArticleRow, EntryRow, StoryBandRow
from tests.conftest import open_database

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
KEEP = timedelta(days=30)
OLD, RECENT = NOW - timedelta(days=400), NOW - timedelta(days=1)
SNIPPETS = ("the **Great Firewall** again", "a second **Great Firewall** passage")


@pytest.fixture
def engine(config_dir: Path, database_url: str) -> Iterator[Engine]:
    _, engine = open_database(config_dir, database_url)
    yield engine
    engine.dispose()


def _text(n: int, repeat: int = 4) -> str:
    """A text long enough for a signature, its own for each n, with Chinese (3 bytes a
    character in UTF-8: the report counts bytes, not characters)."""
    line = f"Article {n} on the Great Firewall, 防火长城 第{n}篇报道, and internet governance. "
    return line * repeat * 4


def _store(engine: Engine, n: int, fetched: datetime, repeat: int = 4) -> str:
    """Article n as the pipeline stores it (signature, bands, one hit, one alert); its text."""
    feeds.sync_feeds(engine, [FeedSpec("https://a.example/rss")], fetched)
    feed_id = feeds.feed_rows(engine)["https://a.example/rss"].id or 0
    text = _text(n, repeat)
    sig = signature(text)
    assert sig is not None
    url = f"https://a.example/{n}"
    store_article(
        engine,
        feed_id=feed_id,
        entry=Entry(f"g{n}", url, f"Title {n}", "summary", fetched),
        article=Article(url, f"Title {n}", text, signature=sig),
        matches=[Match("gfw", "v1", ["Great Firewall"], 1.0, SNIPPETS[0], SNIPPETS)],
        routes={"gfw": [Route("mail")]},
        now=fetched,
        band_values=bands(sig),
    )
    return text


def _articles(engine: Engine) -> dict[str, tuple[str, str, bytes | None, int]]:
    """Title → (link, text, signature, number of story bands)."""
    article, band = ArticleRow.__table__, StoryBandRow.__table__  # type: ignore[attr-defined]
    band_count = select(func.count()).where(band.c.article_id == article.c.id).scalar_subquery()
    query = select(article.c.title, article.c.link, article.c.text, article.c.signature, band_count)
    with engine.connect() as conn:
        return {title: (link, text, sig, n) for title, link, text, sig, n in conn.execute(query)}


def test_prune_deletes_old_text_and_keeps_hits(engine: Engine) -> None:
    old = [_store(engine, n, OLD) for n in range(3)]
    recent = [_store(engine, n, RECENT) for n in range(3, 5)]
    old_bytes = sum(len(text.encode()) for text in old)
    alerts = backlog.alert_counts(engine)
    assert count_prunable(engine, NOW, KEEP) == (3, old_bytes)

    report = prune(engine, NOW, KEEP)

    assert report == PruneReport(
        articles=3, story_bands=3 * BANDS, text_bytes=old_bytes, cutoff=NOW - KEEP
    )
    stored = _articles(engine)
    for n in range(3):
        assert stored[f"Title {n}"] == (f"https://a.example/{n}", "", None, 0)
    for n, text in enumerate(recent, start=3):
        link, kept, sig, band_count = stored[f"Title {n}"]
        assert (link, kept, sig, band_count) == (
            f"https://a.example/{n}",
            text,
            signature(text),
            16,
        )
    hits = query_hits(engine)  # what `monitor hits` and digests read
    assert sorted(h.title for h in hits) == [f"Title {n}" for n in range(5)]
    assert all(h.snippet == SNIPPETS[0] and h.snippets == list(SNIPPETS) for h in hits)
    assert backlog.alert_counts(engine) == alerts == {"pending": 5}
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(EntryRow)).scalar_one() == 5

    # a backtest matches only articles that still have their text
    assert sorted(a.title for a in candidates(engine, None, ArticleFilter())) == [
        "Title 3",
        "Title 4",
    ]

    again = prune(engine, NOW, KEEP)
    assert again == PruneReport(articles=0, story_bands=0, text_bytes=0, cutoff=NOW - KEEP)
    assert count_prunable(engine, NOW, KEEP) == (0, 0)
    assert _articles(engine) == stored


def test_prune_works_in_batches_of_transactions(engine: Engine) -> None:
    for n in range(5):
        _store(engine, n, OLD)
    _store(engine, 5, RECENT)
    commits: list[None] = []
    event.listen(engine, "commit", lambda _conn: commits.append(None))

    report = prune(engine, NOW, KEEP, batch=2)

    assert (report.articles, report.story_bands) == (5, 5 * BANDS)
    assert len(commits) == 3  # 2 + 2 + 1 articles
    stored = _articles(engine)
    assert [title for title, (_, text, _, _) in sorted(stored.items()) if text] == ["Title 5"]


def test_forever_prunes_nothing(engine: Engine) -> None:
    text = _store(engine, 0, OLD)
    assert prune(engine, NOW, None) == PruneReport(0, 0, 0, None)
    assert count_prunable(engine, NOW, None) == (0, 0)
    assert _articles(engine)["Title 0"][1] == text


def test_database_size_and_vacuum(engine: Engine) -> None:
    for n in range(6):
        _store(engine, n, OLD, repeat=200)  # about 80 KB of text each
    before = database_size(engine)
    assert isinstance(before, int) and before > 0

    prune(engine, NOW, KEEP)
    vacuum(engine)

    after = database_size(engine)
    assert isinstance(after, int) and after > 0
    if engine.dialect.name == "sqlite":  # PostgreSQL's VACUUM keeps the space for reuse
        assert after < before


def test_in_memory_sqlite_has_no_size() -> None:
    assert database_size(open_engine("sqlite:///:memory:")) is None


def _monitor(config_dir: Path, database_url: str, *args: str) -> tuple[int, str]:
    """`monitor --config DIR db prune ARGS` through typer's runner: exit code and output."""
    result = CliRunner().invoke(
        app,
        ["--config", str(config_dir), "db", "prune", *args],
        env={"MONITOR_DATABASE_URL": database_url, "COLUMNS": "200"},
    )
    return result.exit_code, result.output


def test_cli_counts_prunes_and_reports_sizes(
    engine: Engine, config_dir: Path, database_url: str
) -> None:
    now = datetime.now(UTC)  # the command prunes against the real clock
    old = [_store(engine, n, now - timedelta(days=400)) for n in range(3)]
    _store(engine, 3, now - timedelta(days=1))
    old_bytes = sum(len(text.encode()) for text in old)

    code, dry = _monitor(config_dir, database_url, "--dry-run")
    assert code == 0, dry
    assert "would prune 3 article(s)" in dry and "nothing changed" in dry
    assert count_prunable(engine, now, timedelta(days=365)) == (3, old_bytes)

    code, kept = _monitor(config_dir, database_url, "--older-than", "500d", "--json")
    assert code == 0, kept
    assert json.loads(kept)["articles"] == 0

    code, pruned = _monitor(config_dir, database_url, "--json")  # retention.article_text: 365d
    assert code == 0, pruned
    report = json.loads(pruned)
    assert (report["articles"], report["text_bytes"], report["story_bands"]) == (
        3,
        old_bytes,
        3 * BANDS,
    )
    assert report["size_before"] > 0 and report["size_after"] > 0
    assert count_prunable(engine, now, timedelta(days=365)) == (0, 0)

    code, table = _monitor(config_dir, database_url, "--older-than", "12h", "--vacuum")
    assert code == 0, table
    assert "pruned 1 article(s)" in table and "before" in table and "after" in table
    assert len(query_hits(engine)) == 4


def test_cli_refuses_when_text_is_kept_forever(
    engine: Engine, config_dir: Path, database_url: str
) -> None:
    (config_dir / "monitor.yaml").write_text("retention:\n  article_text: 0\n", encoding="utf-8")
    text = _store(engine, 0, datetime.now(UTC) - timedelta(days=400))

    code, output = _monitor(config_dir, database_url)

    assert code == 2
    assert "retention.article_text is 0 (keep forever): give --older-than" in output
    assert _articles(engine)["Title 0"][1] == text
    code, output = _monitor(config_dir, database_url, "--older-than", "30d", "--dry-run")
    assert code == 0 and "would prune 1 article(s)" in output
