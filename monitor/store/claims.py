"""Claims and the instances holding them: a silent instance's claims taken over, stale ones
released at the start of a SQLite instance, and who holds the feeds a cycle skips.

A claim is a feed's lease (feed.lease_until) or an outbox row's next attempt moved past its
lease (alert, message), with the instance that took it in `claimed_by`. The lease ends a
claim in any case; an instance whose heartbeat is older than `silent` (killed, its machine
lost) or that said it stopped loses its claims at once, so its feeds and deliveries are
taken over within a minute rather than after the lease.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from monitor.store.tables import AlertRow, FeedRow, InstanceRow, MessageRow


@dataclass(frozen=True, slots=True)
class TakenOver:
    """The claims voided of one silent (or stopped) instance."""

    instance: str
    host: str
    pid: int
    heartbeat_at: datetime
    feeds: int
    deliveries: int  # alerts and messages


@dataclass(frozen=True, slots=True)
class Held:
    """Due feeds (and pending deliveries) claimed by one holder other than the asker; the
    holder is None for claims written before migration 0010, or by a forgotten instance."""

    instance: str | None
    host: str | None
    pid: int | None
    heartbeat_at: datetime | None
    stopped: bool
    feeds: int
    deliveries: int
    lease_until: datetime | None  # the feeds' earliest lease end


def take_over(
    engine: Engine, now: datetime, silent: timedelta, me: str | None, *, lease: timedelta
) -> list[TakenOver]:
    """Void the claims of every instance (other than `me`) silent for more than `silent`, or
    stopped, that may still hold some (heard of within the last `lease` and `silent`: older
    claims have ended with their lease): their feeds are free to claim and their deliveries
    due now."""
    with Session(engine) as session:
        gone = session.exec(
            select(InstanceRow).where(
                col(InstanceRow.heartbeat_at) > now - lease - silent,
                or_(
                    col(InstanceRow.heartbeat_at) < now - silent,
                    col(InstanceRow.stopped_at).is_not(None),
                ),
                col(InstanceRow.id) != (me or ""),
            )
        ).all()
        if not gone:
            return []
        who = [(row.id, row.host, row.pid, row.heartbeat_at) for row in gone]  # before commit
        feeds: Counter[str] = Counter()
        deliveries: Counter[str] = Counter()
        for instance, *_ in who:  # one at a time, to count them (a few at most)
            feeds[instance] = _count(
                session.execute(
                    update(FeedRow)
                    .where(col(FeedRow.claimed_by) == instance)
                    .values(lease_until=None, claimed_by=None)
                )
            )
            for table in (AlertRow, MessageRow):
                deliveries[instance] += _count(
                    session.execute(
                        update(table)
                        .where(col(table.status) == "pending", col(table.claimed_by) == instance)
                        .values(next_attempt_at=now, claimed_by=None)
                    )
                )
        session.commit()
    return [
        TakenOver(instance, host, pid, heard, feeds[instance], deliveries[instance])
        for instance, host, pid, heard in who
        if feeds[instance] or deliveries[instance]
    ]


def _count(result: object) -> int:
    """The rows an UPDATE changed."""
    return int(getattr(result, "rowcount", 0) or 0)


def release_all(engine: Engine, now: datetime) -> tuple[int, int]:
    """Release every claim (feeds, then deliveries, made due now): for an instance that holds
    the only lock on a SQLite file, whatever is claimed was left by one that died. How many
    feeds and deliveries were released."""
    with Session(engine) as session:
        feeds = _count(
            session.execute(
                update(FeedRow)
                .where(col(FeedRow.lease_until).is_not(None))
                .values(lease_until=None, claimed_by=None)
            )
        )
        deliveries = 0
        for table in (AlertRow, MessageRow):
            deliveries += _count(
                session.execute(
                    update(table)
                    .where(col(table.status) == "pending", col(table.claimed_by).is_not(None))
                    .values(next_attempt_at=now, claimed_by=None)
                )
            )
        session.commit()
    return feeds, deliveries


def held_elsewhere(
    engine: Engine, now: datetime, me: str | None, *, everything: bool
) -> list[Held]:
    """Who holds the feeds that would be due now (every enabled one with `everything`) but are
    claimed by another instance, and the pending deliveries claimed by another, per holder."""
    mine = or_(col(FeedRow.claimed_by).is_(None), col(FeedRow.claimed_by) != (me or ""))
    feeds = (
        sa_select(col(FeedRow.claimed_by), func.count(), func.min(col(FeedRow.lease_until)))
        .where(
            col(FeedRow.enabled).is_(True),
            col(FeedRow.status) != "gone",
            col(FeedRow.lease_until) >= now,
            mine,
        )
        .group_by(col(FeedRow.claimed_by))
    )
    if not everything:
        feeds = feeds.where(
            or_(col(FeedRow.next_poll_at).is_(None), col(FeedRow.next_poll_at) <= now)
        )
    counts: dict[str | None, tuple[int, int, datetime | None]] = {}
    with Session(engine) as session:
        for holder, count, until in session.execute(feeds):
            counts[holder] = (int(count), 0, until)
        for table in (AlertRow, MessageRow):
            pending = (
                sa_select(col(table.claimed_by), func.count())
                .where(
                    col(table.status) == "pending",
                    col(table.next_attempt_at) > now,
                    col(table.claimed_by).is_not(None),
                    col(table.claimed_by) != (me or ""),
                )
                .group_by(col(table.claimed_by))
            )
            for holder, count in session.execute(pending):
                nfeeds, ndeliveries, until = counts.get(holder, (0, 0, None))
                counts[holder] = (nfeeds, ndeliveries + int(count), until)
        known = {
            row.id: row
            for row in session.exec(
                select(InstanceRow).where(col(InstanceRow.id).in_([h for h in counts if h]))
            )
        }
    held = []
    for holder, (nfeeds, ndeliveries, until) in counts.items():
        row = known.get(holder or "")
        held.append(
            Held(
                instance=holder,
                host=row.host if row else None,
                pid=row.pid if row else None,
                heartbeat_at=row.heartbeat_at if row else None,
                stopped=row is not None and row.stopped_at is not None,
                feeds=nfeeds,
                deliveries=ndeliveries,
                lease_until=until,
            )
        )
    return held
