"""Storage on SQLite and PostgreSQL: migrations, idempotent writes, feed claiming, the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

from monitor.alerts.outbox import CLAIM_BATCH as BATCH
from monitor.alerts.outbox import LEASE as ALERT_LEASE
from monitor.models import (
    Article,
    Entry,
    FeedSpec,
    Match,
    PollRecord,
    PollResult,
    Route,
    StoredEntry,
)
from monitor.pipeline.newentries import unseen
from monitor.store import articles, backlog, feeds, outbox
from monitor.store.engine import upgrade
from monitor.store.gateway import Database
from monitor.store.hits import query_hits

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
claim_alerts = partial(outbox.claim_alerts, lease=ALERT_LEASE, limit=BATCH)
LEASE = timedelta(minutes=15)


def _feed(engine: Engine, url: str = "https://a.example/rss") -> int:
    feeds.sync_feeds(engine, [FeedSpec(url)], NOW)
    return feeds.feed_rows(engine)[url].id or 0


def _store(engine: Engine, feed_id: int, guid: str = "g1") -> StoredEntry:
    entry = Entry(guid, "https://a.example/1", "Title", "summary", NOW)
    article = Article("https://a.example/1", "Title", "text about the Great Firewall")
    match = Match("gfw", "v1", ["Great Firewall"], 1.0, "the **Great Firewall**")
    return articles.store_article(
        engine,
        feed_id=feed_id,
        entry=entry,
        article=article,
        matches=[match],
        routes={"gfw": [Route("mail"), Route("hook")]},
        now=NOW,
    )


def _not_the_search_index(name: str | None, kind: str, _parent: object) -> bool:
    """The search index (migration 0008) is no SQLModel table: an FTS5 virtual table and its
    shadow tables on SQLite, a table only store/search.py reads on PostgreSQL."""
    return not (kind == "table" and (name or "").startswith("article_search"))


def test_migrations_match_the_tables(engine: Engine) -> None:
    upgrade(engine)  # a second upgrade is a no-op
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": _not_the_search_index})
        assert compare_metadata(context, SQLModel.metadata) == []
        tables = set(inspect(conn).get_table_names())
    assert "article_search" in tables  # what the filter leaves out exists


def test_storing_the_same_entry_twice_adds_nothing(engine: Engine) -> None:
    feed_id = _feed(engine)
    first = _store(engine, feed_id)
    again = _store(engine, feed_id)
    assert (first.new_hits, first.new_alerts) == (1, 2)
    assert (again.new_hits, again.new_alerts) == (0, 0)
    assert again.article_id == first.article_id
    assert len(query_hits(engine)) == 1
    assert backlog.alert_counts(engine) == {"pending": 2}


def test_unseen_skips_stored_guids_and_repeats(engine: Engine) -> None:
    feed_id = _feed(engine)
    _store(engine, feed_id, guid="g1")
    entries = [
        Entry("g1", None, "old", "", None),
        Entry("g2", None, "new", "", None),
        Entry("g2", None, "repeat", "", None),
    ]
    assert [e.title for e in unseen(Database(engine), feed_id, entries)] == ["new"]


def _record(
    engine: Engine, feed_id: int, result: PollResult, now: datetime, next_poll: datetime
) -> None:
    feeds.record_polls(engine, [PollRecord(feed_id, result, now, next_poll)])


def test_claim_due_leases_feeds_until_recorded(engine: Engine) -> None:
    feeds.sync_feeds(
        engine, [FeedSpec("https://a.example/rss"), FeedSpec("https://b.example")], NOW
    )
    due = feeds.claim_due(engine, NOW, lease=LEASE)
    assert {d.url for d in due} == {"https://a.example/rss", "https://b.example"}
    assert all(d.first_poll for d in due)
    assert feeds.claim_due(engine, NOW, lease=LEASE) == []  # leased
    _record(engine, due[0].id, PollResult("a", "ok", etag='"e1"'), NOW, NOW + timedelta(hours=1))
    assert feeds.claim_due(engine, NOW, lease=LEASE) == []  # polled and not due yet
    later = NOW + LEASE + timedelta(seconds=1)
    [expired] = feeds.claim_due(engine, later, lease=LEASE)  # a lease never released expires
    assert expired.id == due[1].id
    _record(
        engine, expired.id, PollResult("b", "error", error="down"), later, NOW + timedelta(hours=3)
    )
    [again] = feeds.claim_due(engine, NOW + timedelta(hours=2), lease=LEASE)
    assert again.etag == '"e1"'
    assert not again.first_poll


def test_claim_all_ignores_schedule_but_not_leases_or_disabled(engine: Engine) -> None:
    feed_id = _feed(engine)
    [due] = feeds.claim_due(engine, NOW, lease=LEASE)
    _record(engine, due.id, PollResult("a", "ok"), NOW, NOW + timedelta(hours=1))
    assert [d.id for d in feeds.claim_due(engine, NOW, everything=True, lease=LEASE)] == [feed_id]
    feeds.release_leases(engine, [feed_id])
    feeds.sync_feeds(engine, [], NOW)  # removed from feeds.yaml
    assert feeds.claim_due(engine, NOW, everything=True, lease=LEASE) == []


def test_outbox_records_sent_and_failed(engine: Engine) -> None:
    _store(engine, _feed(engine))
    first, second = claim_alerts(engine, NOW)
    assert first.hit.profile == "gfw" and first.hit.url == "https://a.example/1"
    Database(engine).mark_sent("alert", first.id, NOW)
    Database(engine).mark_failed("alert", second.id, "refused", NOW + timedelta(minutes=1))
    assert claim_alerts(engine, NOW) == []
    [retry] = claim_alerts(engine, NOW + timedelta(minutes=1))
    assert retry.attempts == 1
    Database(engine).mark_failed("alert", retry.id, "refused again", None)
    assert backlog.alert_counts(engine) == {"sent": 1, "failed": 1}
    Database(engine).mark_sent(
        "alert", retry.id, NOW
    )  # a failed alert is not silently flipped to sent
    assert backlog.alert_counts(engine) == {"sent": 1, "failed": 1}


def test_nul_characters_from_feeds_are_stored_as_replacement_characters(engine: Engine) -> None:
    """PostgreSQL refuses NUL in text and JSON (a JSON Feed's "\\u0000" puts one there):
    every string written, in any column, on either database, has it replaced."""
    feed_id = _feed(engine)
    nul = "a\x00b"
    entry = Entry(f"g{nul}", f"https://a.example/{nul}", f"Title {nul}", nul, NOW, f"h{nul}")
    article = Article(f"https://a.example/{nul}", f"Title {nul}", f"text {nul}", note=nul)
    match = Match("gfw", "v1", [f"term {nul}"], 1.0, f"snip {nul}", (f"snip {nul}",))
    stored = articles.store_article(
        engine,
        feed_id=feed_id,
        entry=entry,
        article=article,
        matches=[match],
        routes={"gfw": [Route("mail")]},
        now=NOW,
    )
    polled = PollResult("f", "ok", title=f"Feed {nul}")
    _record(engine, feed_id, polled, NOW, NOW + timedelta(hours=1))
    [hit] = query_hits(engine)
    clean = "a\ufffdb"
    assert (stored.new_hits, hit.title, hit.matched_terms, hit.snippets) == (
        1,
        f"Title {clean}",
        [f"term {clean}"],
        [f"snip {clean}"],
    )
    assert hit.url == f"https://a.example/{clean}" and hit.note == clean
    assert feeds.feed_rows(engine)["https://a.example/rss"].title == f"Feed {clean}"
    assert Database(engine).stored_guids(feed_id, [f"g{clean}"]) == {f"g{clean}"}


def test_extending_leases_moves_only_the_ones_still_ours(engine: Engine) -> None:
    feeds.sync_feeds(
        engine, [FeedSpec("https://a.example/rss"), FeedSpec("https://b.example/rss")], NOW
    )
    first, second = feeds.claim_due(engine, NOW, lease=LEASE)
    ours = NOW + LEASE
    later = NOW + 2 * LEASE
    _record(engine, second.id, PollResult("b", "ok"), NOW, NOW + timedelta(hours=1))  # done
    feeds.extend_leases(engine, {first.id: ours, second.id: ours}, later)
    rows = feeds.feed_rows(engine)
    assert rows["https://a.example/rss"].lease_until == later  # still polling: kept
    assert rows["https://b.example/rss"].lease_until is None  # its result freed it
    feeds.extend_leases(engine, {first.id: ours}, later + LEASE)  # not what it holds now
    assert feeds.feed_rows(engine)["https://a.example/rss"].lease_until == later
