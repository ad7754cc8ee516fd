"""Feed rows: kept in step with feeds.yaml, claimed when due (with a lease), polls recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, or_, update
from sqlmodel import Session, col, select

from monitor.models import FeedSpec
from monitor.store.tables import FeedRow


@dataclass(frozen=True, slots=True)
class DueFeed:
    """A feed claimed for one poll."""

    id: int
    url: str
    name: str | None
    interval_seconds: int | None
    etag: str | None
    last_modified: str | None
    first_poll: bool

    @property
    def label(self) -> str:
        return self.name or self.url


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What one poll of a feed ended with."""

    status: str  # "ok", "not_modified" or "error"
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None


def sync_feeds(engine: Engine, specs: list[FeedSpec], now: datetime) -> None:
    """Make the feed table follow feeds.yaml: add new feeds, update names and intervals,
    disable feeds no longer listed (their history is kept)."""
    wanted = {spec.url: spec for spec in specs}
    with Session(engine) as session:
        rows = {row.url: row for row in session.exec(select(FeedRow))}
        for url, spec in wanted.items():
            row = rows.get(url)
            if row is None:
                row = FeedRow(url=url, created_at=now)
            row.name = spec.name
            row.interval_seconds = spec.interval
            row.enabled = spec.enabled
            session.add(row)
        for url, row in rows.items():
            if url not in wanted and row.enabled:
                row.enabled = False
                session.add(row)
        session.commit()


def claim_due(
    engine: Engine, now: datetime, *, everything: bool = False, lease: timedelta
) -> list[DueFeed]:
    """Lease the feeds due for a poll (all enabled ones with `everything`).

    On PostgreSQL rows already locked by another instance are skipped; a lease that is not
    released (a crash) expires after `lease`, so no feed stays claimed forever.
    """
    query = select(FeedRow).where(
        col(FeedRow.enabled).is_(True),
        or_(col(FeedRow.lease_until).is_(None), col(FeedRow.lease_until) < now),
    )
    if not everything:
        query = query.where(
            or_(col(FeedRow.next_poll_at).is_(None), col(FeedRow.next_poll_at) <= now)
        )
    query = query.order_by(col(FeedRow.next_poll_at).asc().nulls_first(), col(FeedRow.id))
    with Session(engine) as session:
        rows = list(session.exec(query.with_for_update(skip_locked=True)))
        claimed = [
            DueFeed(
                id=row.id or 0,
                url=row.url,
                name=row.name,
                interval_seconds=row.interval_seconds,
                etag=row.etag,
                last_modified=row.last_modified,
                first_poll=row.successful_polls == 0,
            )
            for row in rows
        ]
        if claimed:
            session.execute(
                update(FeedRow)
                .where(col(FeedRow.id).in_([feed.id for feed in claimed]))
                .values(lease_until=now + lease)
            )
        session.commit()
    return claimed


def record_poll(
    engine: Engine, feed_id: int, outcome: PollOutcome, now: datetime, next_poll_at: datetime
) -> None:
    """Store a poll's result, schedule the next one and release the lease."""
    with Session(engine) as session:
        row = session.get(FeedRow, feed_id)
        if row is None:
            return
        row.last_polled_at = now
        row.last_status = outcome.status
        row.next_poll_at = next_poll_at
        row.lease_until = None
        if outcome.status == "error":
            row.last_error = outcome.error
            row.consecutive_failures += 1
        else:
            row.last_error = None
            row.consecutive_failures = 0
            row.successful_polls += 1
            if outcome.status == "ok":
                row.etag = outcome.etag
                row.last_modified = outcome.last_modified
                row.title = outcome.title or row.title
        session.add(row)
        session.commit()


def release_leases(engine: Engine, feed_ids: list[int]) -> None:
    """Give feeds back unpolled (shutdown in the middle of a cycle)."""
    if not feed_ids:
        return
    with Session(engine) as session:
        session.execute(
            update(FeedRow).where(col(FeedRow.id).in_(feed_ids)).values(lease_until=None)
        )
        session.commit()


def feed_rows(engine: Engine) -> dict[str, FeedRow]:
    """Every feed row by URL (for listings)."""
    with Session(engine) as session:
        return {row.url: row for row in session.exec(select(FeedRow))}
