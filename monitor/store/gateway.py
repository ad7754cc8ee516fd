"""The database as the pipeline and the alerts see it: one object over an engine with the
calls they declare in their protocols (monitor.pipeline.ports.PollStore,
monitor.alerts.ports.OutboxStore, monitor.alerts.spikes.HitCounts). Each method is one
transaction or one read, and blocks: callers on the event loop run it in a thread."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Engine
from sqlmodel import Session

from monitor.models import (
    Article,
    DigestHit,
    DueFeed,
    Entry,
    Match,
    NoticeDraft,
    PendingAlert,
    PendingMessage,
    PollRecord,
    Route,
    StoredEntry,
)
from monitor.store import articles, faults, feeds, hits, messages, outbox
from monitor.store.evidence import Keeping
from monitor.store.tables import AlertRow, MessageRow

Kind = Literal["alert", "message"]  # which outbox table a row is in
_TABLES: dict[Kind, type[AlertRow] | type[MessageRow]] = {
    "alert": AlertRow,
    "message": MessageRow,
}


class Database:
    """The calls of the pipeline and of the outbox, on one engine."""

    def __init__(
        self, engine: Engine, holder: str | None = None, keeping: Keeping | None = None
    ) -> None:
        self.engine = engine
        self.holder = holder  # the instance whose claims these are (recorded with each one)
        self.keeping = keeping  # where hit articles' pages are kept (None: nowhere)

    @staticmethod
    def unavailable(exc: BaseException) -> str | None:
        return faults.unavailable(exc)

    # -- feeds (a cycle's claims and results) ---------------------------------------------
    def claim_due(
        self, now: datetime, *, everything: bool, lease: timedelta, limit: int | None
    ) -> list[DueFeed]:
        return feeds.claim_due(
            self.engine, now, everything=everything, lease=lease, limit=limit, holder=self.holder
        )

    def extend_leases(self, leases: dict[int, datetime], until: datetime) -> None:
        feeds.extend_leases(self.engine, leases, until)

    def release_leases(self, feed_ids: list[int]) -> None:
        feeds.release_leases(self.engine, feed_ids)

    def record_polls(self, records: list[PollRecord]) -> None:
        feeds.record_polls(self.engine, records)

    # -- entries and articles (one poll) ----------------------------------------------------
    def stored_guids(self, feed_id: int, guids: Iterable[str]) -> set[str]:
        return articles.stored_guids(self.engine, feed_id, guids)

    def known_guids(self, feed_id: int) -> set[str]:
        return articles.known_guids(self.engine, feed_id)

    def article_id_for(self, url: str) -> int | None:
        return articles.article_id_for(self.engine, url)

    def link_entry(self, feed_id: int, entry: Entry, article_id: int, now: datetime) -> None:
        articles.link_entry(self.engine, feed_id, entry, article_id, now)

    def story_candidates(self, band_values: list[int], since: datetime) -> list[tuple[int, bytes]]:
        return articles.story_candidates(self.engine, band_values, since)

    def store_article(
        self,
        *,
        feed_id: int,
        entry: Entry,
        article: Article,
        matches: list[Match],
        routes: dict[str, list[Route]],
        now: datetime,
        story_id: int | None,
        band_values: list[int],
    ) -> StoredEntry:
        return articles.store_article(
            self.engine,
            feed_id=feed_id,
            entry=entry,
            article=article,
            matches=matches,
            routes=routes,
            now=now,
            story_id=story_id,
            band_values=band_values,
            keeping=self.keeping,
        )

    # -- hits (spikes) ---------------------------------------------------------------------
    def hit_counts(self, since: datetime, until: datetime) -> dict[str, int]:
        return hits.hit_counts(self.engine, since, until)

    def first_hits(self) -> dict[str, datetime]:
        return hits.first_hits(self.engine)

    # -- the outbox -------------------------------------------------------------------------
    def claim_alerts(
        self, now: datetime, *, lease: timedelta, limit: int, due_by: datetime | None = None
    ) -> list[PendingAlert]:
        return outbox.claim_alerts(
            self.engine, now, lease=lease, limit=limit, due_by=due_by, holder=self.holder
        )

    def claim_messages(
        self, now: datetime, *, lease: timedelta, limit: int, due_by: datetime | None = None
    ) -> list[PendingMessage]:
        return outbox.claim_messages(
            self.engine, now, lease=lease, limit=limit, due_by=due_by, holder=self.holder
        )

    def release(self, kind: Kind, ids: list[int], until: datetime, now: datetime) -> None:
        outbox.release(self.engine, _TABLES[kind], ids, until, now)

    def hold(
        self,
        kind: Kind,
        row_id: int,
        until: datetime,
        *,
        digest: str | None = None,
        notice: tuple[NoticeDraft, datetime] | None = None,
    ) -> None:
        if kind == "message":
            if notice is not None:
                raise ValueError("a notice is queued with a held alert only")
            outbox.record_attempt(self.engine, MessageRow, row_id, retry_at=until, attempt=False)
            return
        with Session(self.engine) as session:
            outbox.hold_alert(self.engine, row_id, until, digest=digest, session=session)
            if notice is not None:
                self._enqueue(session, *notice)
            session.commit()

    def mark_sent(self, kind: Kind, row_id: int, now: datetime) -> None:
        outbox.record_attempt(self.engine, _TABLES[kind], row_id, sent_at=now)

    def mark_failed(self, kind: Kind, row_id: int, error: str, retry_at: datetime | None) -> None:
        outbox.record_attempt(self.engine, _TABLES[kind], row_id, error=error, retry_at=retry_at)

    def alerts_in_window(self, profile: str, channel: str, since: datetime) -> int:
        return outbox.alerts_in_window(self.engine, profile, channel, since)

    def enqueue(
        self, notice: NoticeDraft, now: datetime, *, feed_notice: tuple[int, str] | None = None
    ) -> int:
        """Queue the notice for each of its channels (once per key); with `feed_notice` (feed
        id, kind) the feed row records that it was told, in the same transaction."""
        with Session(self.engine) as session:
            added = self._enqueue(session, notice, now)
            if feed_notice is not None:
                feed_id, kind = feed_notice
                feeds.mark_notice(self.engine, feed_id, kind, now, session=session)
            session.commit()
        return added

    def _enqueue(self, session: Session, notice: NoticeDraft, now: datetime) -> int:
        return messages.enqueue(
            self.engine,
            list(notice.channels),
            notice.key,
            notice.kind,
            now,
            title=notice.title,
            body=notice.body,
            session=session,
        )

    def enqueue_digest(
        self,
        channels: list[str],
        schedule: str,
        fire: datetime,
        now: datetime,
        period_start: datetime | None,
    ) -> int:
        """Queue the digest of `schedule` due at `fire` for each channel (an empty one)."""
        return messages.enqueue(
            self.engine,
            channels,
            messages.digest_key(schedule, fire),
            "digest",
            now,
            schedule=schedule,
            period_start=period_start,
            period_end=fire,
        )

    def close_digests(
        self, now: datetime, period_starts: dict[str, Callable[[datetime], datetime | None]]
    ) -> int:
        return messages.close_digests(self.engine, now, period_starts)

    def digest_hits(self, message_id: int) -> list[DigestHit]:
        return messages.digest_hits(self.engine, message_id)
