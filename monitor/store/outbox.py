"""The alert outbox in the database: pending alerts with what a message needs, and their results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select

from monitor.store.hits import HitView, hit_view, hits_joined, story_outlets
from monitor.store.tables import AlertRow, HitRow, MessageRow

# How long a claim keeps other instances off a row (alert or message) it has not sent yet. The
# delivery pass claims CLAIM_BATCH rows at a time and gives back what is left of a batch once half
# the lease has passed (monitor.alerts.outbox), so the other half only has to outlast one send
# and the clock difference between two machines; a send takes seconds (Apprise waits 5.5 s
# between two messages to most services, its socket timeouts are 4-15 s), so 20 of them usually
# fit in the first half. The lease is also how long the unsent rows of an instance killed
# mid-pass wait before another instance or its restart sends them: minutes, not hours.
LEASE = timedelta(minutes=10)
CLAIM_BATCH = 20


@dataclass(frozen=True, slots=True)
class PendingAlert:
    """One alert to deliver and the hit it is about."""

    id: int
    channel: str
    attempts: int
    hit: HitView
    also: tuple[tuple[str, str], ...] = ()  # (outlet, link) of the story's other articles


def claim_alerts(
    engine: Engine, now: datetime, *, lease: timedelta = LEASE, limit: int = CLAIM_BATCH
) -> list[PendingAlert]:
    """Claim the pending alerts whose next attempt is due, oldest first, for one instance.

    On PostgreSQL the rows are locked (rows another instance is claiming are skipped) and their
    next attempt moved to `now + lease`, in one transaction: other instances do not see them as
    due until the lease has passed. Recording the result (mark_sent, mark_attempt_failed,
    hold_alert) ends the claim; an alert left unsent (a crash) is due again when the lease ends.
    """
    due = (
        hits_joined(AlertRow)
        .join(AlertRow, col(AlertRow.hit_id) == HitRow.id)
        .where(col(AlertRow.status) == "pending", col(AlertRow.next_attempt_at) <= now)
        .order_by(col(AlertRow.id))
        .limit(limit)
        .with_for_update(skip_locked=True, of=AlertRow)  # not the hit, article and feed rows
    )
    with Session(engine) as session:
        rows = [(alert, hit_view(*rest)) for alert, *rest in session.exec(due)]
        outlets = story_outlets(session, [hit for _, hit in rows])
        claimed = [
            PendingAlert(alert.id or 0, alert.channel, alert.attempts, hit, also)
            for (alert, hit), also in zip(rows, outlets, strict=True)
        ]
        lease_rows(session, AlertRow, [alert.id for alert in claimed], now + lease)
        session.commit()
    return claimed


def lease_rows(
    session: Session, table: type[AlertRow] | type[MessageRow], ids: list[int], until: datetime
) -> None:
    """Move claimed rows' next attempt to `until`, where another instance could take them.

    SQLite serves one instance (it is locked to it): there nothing else takes a row, so it is
    left due, and after a crash the restarted instance sends at once what was not sent.
    """
    if ids and session.get_bind().dialect.name != "sqlite":
        session.execute(update(table).where(col(table.id).in_(ids)).values(next_attempt_at=until))


def release(
    engine: Engine,
    table: type[AlertRow] | type[MessageRow],
    ids: list[int],
    until: datetime,
    now: datetime,
) -> None:
    """Give back claimed rows not sent after all: those still pending under the lease `until`
    (a lease that ran out and was taken by another instance is left alone) are due at `now`."""
    if not ids:
        return
    with Session(engine) as session:
        session.execute(
            update(table)
            .where(
                col(table.id).in_(ids),
                col(table.status) == "pending",
                col(table.next_attempt_at) == until,
            )
            .values(next_attempt_at=now)
        )
        session.commit()


def mark_sent(engine: Engine, alert_id: int, now: datetime) -> None:
    record_attempt(engine, AlertRow, alert_id, sent_at=now)


def hold_alert(
    engine: Engine, alert_id: int, until: datetime, *, digest: str | None = None
) -> None:
    """Postpone an alert without counting an attempt: to `until` (quiet hours), or, with
    `digest`, into that digest due at `until` (debounce)."""
    values: dict[str, object] = {"next_attempt_at": until}
    if digest is not None:
        values.update(status="queued", digest=digest)
    with Session(engine) as session:
        session.execute(
            update(AlertRow)
            .where(col(AlertRow.id) == alert_id, col(AlertRow.status) == "pending")
            .values(**values)
        )
        session.commit()


def alerts_in_window(engine: Engine, profile: str, channel: str, since: datetime) -> int:
    """Instant alerts of a profile sent to a channel since `since`."""
    with Session(engine) as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(AlertRow)
                .join(HitRow, col(HitRow.id) == AlertRow.hit_id)
                .where(
                    HitRow.profile == profile,
                    AlertRow.channel == channel,
                    col(AlertRow.digest).is_(None),
                    col(AlertRow.sent_at) >= since,
                )
            ).one()
        )


def mark_attempt_failed(
    engine: Engine, alert_id: int, error: str, retry_at: datetime | None
) -> None:
    """Count a failed attempt; with no `retry_at` the alert is marked failed for good."""
    record_attempt(engine, AlertRow, alert_id, error=error, retry_at=retry_at)


def record_attempt(
    engine: Engine,
    table: type[AlertRow] | type[MessageRow],
    row_id: int,
    *,
    sent_at: datetime | None = None,
    error: str | None = None,
    retry_at: datetime | None = None,
    attempt: bool = True,
) -> None:
    """Record a pending outbox row's result: sent (`sent_at`), failed for now (`error` and
    `retry_at`), failed for good (`error` alone), or held without an attempt (`retry_at`,
    attempt=False). A row no longer pending is left as it is."""
    # Core: the ORM's bulk-update machinery cost more than the UPDATE itself
    rows = table.__table__  # type: ignore[union-attr]
    values: dict[str, object] = {}
    if attempt:
        values["attempts"] = rows.c.attempts + 1
    if sent_at is not None:
        values.update(status="sent", sent_at=sent_at, last_error=None)
    else:
        if error is not None:
            values["last_error"] = error[:2000]
        if retry_at is None:
            values["status"] = "failed"
        else:
            values["next_attempt_at"] = retry_at
    with engine.begin() as conn:
        conn.execute(
            update(rows).where(rows.c.id == row_id, rows.c.status == "pending").values(**values)
        )


def alert_counts(engine: Engine) -> dict[str, int]:
    """Number of alerts per status."""
    return count_by_status(engine, AlertRow)


def count_by_status(engine: Engine, table: type[AlertRow] | type[MessageRow]) -> dict[str, int]:
    """Rows of an outbox table per status."""
    with Session(engine) as session:
        rows = session.exec(select(table.status, func.count()).group_by(col(table.status))).all()
    return dict(rows)


@dataclass(frozen=True, slots=True)
class Undelivered:
    """An alert still pending or given up on, for `monitor alerts status`."""

    id: int
    channel: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    profile: str
    title: str
    url: str


def undelivered(engine: Engine, limit: int = 200) -> list[Undelivered]:
    """Pending and failed alerts, oldest first."""
    query = (
        hits_joined(AlertRow)
        .join(AlertRow, col(AlertRow.hit_id) == HitRow.id)
        .where(col(AlertRow.status).in_(["pending", "failed"]))
        .order_by(col(AlertRow.id))
        .limit(limit)
    )
    with Session(engine) as session:
        return [
            Undelivered(
                id=alert.id or 0,
                channel=alert.channel,
                status=alert.status,
                attempts=alert.attempts,
                last_error=alert.last_error,
                next_attempt_at=alert.next_attempt_at,
                profile=hit.profile,
                title=article.title,
                url=article.link,
            )
            for alert, hit, article, _feed in session.exec(query)
        ]


def requeue_failed(
    engine: Engine,
    now: datetime,
    channel: str | None = None,
    table: type[AlertRow] | type[MessageRow] = AlertRow,
) -> int:
    """Make failed rows pending again (attempts start over); how many were requeued."""
    query = update(table).where(col(table.status) == "failed")
    if channel is not None:
        query = query.where(col(table.channel) == channel)
    with Session(engine) as session:
        result = session.execute(query.values(status="pending", attempts=0, next_attempt_at=now))
        session.commit()
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
