"""A dead instance's claims are taken over: its feeds and deliveries are free once its heartbeat
is silent for takeover.silent_after (not after the lease); on SQLite, where the instance lock
proves it dead, at once; and `run --once` says which feeds it skipped and who holds them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from monitor.models import Article, Entry, FeedSpec, Match, Route
from monitor.runtime.takeover import silent_after, skipped_lines
from monitor.store import articles, claims, feeds, instances, outbox
from monitor.store.engine import open_engine, upgrade
from monitor.store.tables import AlertRow, FeedRow

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=15)
SILENT = silent_after(30.0)
URLS = [f"https://news.example/{n}.xml" for n in range(6)]


def _farm(engine: Engine) -> None:
    """Six feeds; one hit of feed 0 with an alert to channel `hook`; instances `dead` and
    `alive` registered."""
    feeds.sync_feeds(engine, [FeedSpec(url) for url in URLS], NOW)
    feed_id = feeds.feed_rows(engine)[URLS[0]].id or 0
    articles.store_article(
        engine,
        feed_id=feed_id,
        entry=Entry("g", "https://news.example/a", "A", "", NOW),
        article=Article("https://news.example/a", "A", "About the Great Firewall."),
        matches=[Match("gfw", "v1", ["Great Firewall"], 1.0, "the **Great Firewall**")],
        routes={"gfw": [Route("hook")]},
        now=NOW,
    )
    for name in ("dead", "alive"):
        instances.register(engine, instance_id=name, host="vm", pid=7, version="0", now=NOW)


def _leased(engine: Engine) -> dict[str, str | None]:
    with Session(engine) as session:
        rows = session.exec(select(FeedRow).where(col(FeedRow.lease_until).is_not(None)))
        return {row.url: row.claimed_by for row in rows}


def test_a_silent_instance_s_claims_are_taken_over_before_its_lease_ends(engine: Engine) -> None:
    _farm(engine)
    taken = feeds.claim_due(engine, NOW, lease=LEASE, limit=4, holder="dead")
    [alert] = outbox.claim_alerts(engine, NOW, lease=LEASE, limit=20, holder="dead")
    feeds.claim_due(engine, NOW, lease=LEASE, limit=1, holder="alive")
    assert set(_leased(engine).values()) == {"dead", "alive"}
    assert len(taken) == 4

    # both still heard of: nothing is taken; the alive one sees who holds the rest
    later = NOW + SILENT
    instances.heartbeat(engine, "dead", NOW)
    instances.heartbeat(engine, "alive", later)
    assert claims.take_over(engine, later, SILENT, "alive", lease=LEASE) == []
    [sixth] = feeds.claim_due(engine, later, lease=LEASE, holder="alive")  # the one left
    assert sixth.url not in {feed.url for feed in taken}
    held = claims.held_elsewhere(engine, later, "alive", everything=True)
    assert [(h.instance, h.feeds) for h in held] == [("dead", 4)]
    [line] = skipped_lines(held, later, SILENT)
    pg = engine.dialect.name == "postgresql"  # SQLite leaves claimed alerts due (no lease)
    assert line.startswith("4 feeds and 1 deliveries skipped: " if pg else "4 feeds skipped: ")
    assert "claimed by instance dead (vm pid 7, alive, heartbeat 30 s ago" in line

    # one second more and `dead` is silent: its feeds are free, its alert due now
    after = later + timedelta(seconds=1)
    [gone] = claims.take_over(engine, after, SILENT, "alive", lease=LEASE)
    assert (gone.instance, gone.feeds, gone.deliveries) == ("dead", 4, 1 if pg else 0)
    assert "dead" not in _leased(engine).values()
    again = feeds.claim_due(engine, after, lease=LEASE, holder="alive", everything=True)
    assert {feed.url for feed in again} == {feed.url for feed in taken}
    [resent] = outbox.claim_alerts(engine, after, lease=LEASE, limit=20, holder="alive")
    assert resent.id == alert.id
    assert claims.take_over(engine, after, SILENT, "alive", lease=LEASE) == []  # once


def test_a_result_ends_the_claim_so_a_later_takeover_changes_nothing(engine: Engine) -> None:
    _farm(engine)
    [alert] = outbox.claim_alerts(engine, NOW, lease=LEASE, limit=20, holder="dead")
    retry = NOW + timedelta(hours=1)
    outbox.record_attempt(engine, AlertRow, alert.id, error="503", retry_at=retry)
    assert claims.take_over(engine, NOW + timedelta(hours=2), SILENT, "alive", lease=LEASE) == []
    with Session(engine) as session:
        row = session.get(AlertRow, alert.id)
        assert row is not None and (row.next_attempt_at, row.claimed_by) == (retry, None)


def test_a_stopped_instance_s_leftover_claims_are_void_at_once(engine: Engine) -> None:
    _farm(engine)
    feeds.claim_due(engine, NOW, lease=LEASE, limit=2, holder="dead")
    instances.stop(engine, "dead", NOW)
    [gone] = claims.take_over(engine, NOW, SILENT, "alive", lease=LEASE)
    assert gone.feeds == 2
    assert _leased(engine) == {}


def test_claims_found_at_start_on_sqlite_are_released(sqlite_url: str) -> None:
    engine = open_engine(sqlite_url)
    upgrade(engine)
    try:
        _farm(engine)
        feeds.claim_due(engine, NOW, lease=LEASE, everything=True, holder="dead")
        feeds.claim_due(engine, NOW, lease=LEASE, everything=True)  # before migration 0010
        assert len(_leased(engine)) == len(URLS)
        assert feeds.claim_due(engine, NOW, lease=LEASE, everything=True) == []
        assert claims.release_all(engine, NOW) == (len(URLS), 0)
        assert len(feeds.claim_due(engine, NOW, lease=LEASE, everything=True)) == len(URLS)
    finally:
        engine.dispose()


def test_feeds_claimed_by_no_named_instance_are_reported_with_their_lease(engine: Engine) -> None:
    _farm(engine)
    feeds.claim_due(engine, NOW, lease=LEASE, everything=True)  # claimed before migration 0010
    held = claims.held_elsewhere(engine, NOW, "alive", everything=True)
    assert skipped_lines(held, NOW, SILENT) == [
        f"{len(URLS)} feeds skipped: claimed (unnamed; lease until 09:15:00 UTC)"
    ]
    assert claims.held_elsewhere(engine, NOW, "alive", everything=False) != []
