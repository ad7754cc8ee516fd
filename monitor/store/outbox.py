"""The outbox in the database: due alerts and messages claimed for delivery (with a lease),
given back, held, and their results recorded. Digests and notices are made in
monitor.store.messages; operators' listings and requeueing are in monitor.store.backlog."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, func, tuple_, update
from sqlmodel import Session, col, select

from monitor.models import PendingAlert, PendingMessage
from monitor.store.hits import as_hit, hits_joined, story_outlets
from monitor.store.tables import AlertRow, HitRow, MessageRow


def claim_alerts(
    engine: Engine,
    now: datetime,
    *,
    lease: timedelta,
    limit: int,
    due_by: datetime | None = None,
    holder: str | None = None,
) -> list[PendingAlert]:
    """Claim the pending alerts whose next attempt is due (by `due_by`, else `now`), oldest
    first, for one instance; with them, the other due alerts of the same articles to the same
    channels (one message tells a channel about an article and every profile it matched).

    On PostgreSQL the rows are locked (rows another instance is claiming are skipped) and their
    next attempt moved to `now + lease`, in one transaction: other instances do not see them as
    due until the lease has passed. Recording the result (record_attempt, hold_alert) ends
    the claim; an alert left unsent (a crash) is due again when the lease ends, or before
    once its `holder` (the claiming instance, recorded) falls silent (store.claims.take_over).
    """
    due = (
        hits_joined(AlertRow)
        .join(AlertRow, col(AlertRow.hit_id) == HitRow.id)
        .where(col(AlertRow.status) == "pending", col(AlertRow.next_attempt_at) <= (due_by or now))
        .order_by(col(AlertRow.id))
        .with_for_update(skip_locked=True, of=AlertRow)  # not the hit, article and feed rows
    )
    with Session(engine) as session:
        rows = [(alert, as_hit(*rest)) for alert, *rest in session.exec(due.limit(limit))]
        pairs = list({(hit.article_id, alert.channel) for alert, hit in rows})
        if pairs:  # the rest of these articles' alerts to these channels
            taken = [alert.id for alert, _ in rows]
            rest = due.where(
                tuple_(col(HitRow.article_id), col(AlertRow.channel)).in_(pairs),
                col(AlertRow.id).not_in(taken),
            )
            rows += [(alert, as_hit(*more)) for alert, *more in session.exec(rest)]
        outlets = story_outlets(session, [hit for _, hit in rows])
        claimed = [
            PendingAlert(alert.id or 0, alert.channel, alert.attempts, hit, also)
            for (alert, hit), also in zip(rows, outlets, strict=True)
        ]
        lease_rows(session, AlertRow, [alert.id for alert in claimed], now + lease, holder)
        session.commit()
    return claimed


def claim_messages(
    engine: Engine,
    now: datetime,
    *,
    lease: timedelta,
    limit: int,
    due_by: datetime | None = None,
    holder: str | None = None,
) -> list[PendingMessage]:
    """Claim the pending messages whose next attempt is due, oldest first, for one instance:
    like claim_alerts (locked, skipped by other instances, leased)."""
    due = (
        select(MessageRow)
        .where(
            col(MessageRow.status) == "pending",
            col(MessageRow.next_attempt_at) <= (due_by or now),
        )
        .order_by(col(MessageRow.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    with Session(engine) as session:
        claimed = [
            PendingMessage(
                row.id or 0,
                row.channel,
                row.key,
                row.kind,
                row.title,
                row.body,
                row.schedule,
                row.period_start,
                row.period_end,
                row.attempts,
            )
            for row in session.exec(due)
        ]
        lease_rows(session, MessageRow, [message.id for message in claimed], now + lease, holder)
        session.commit()
    return claimed


def lease_rows(
    session: Session,
    table: type[AlertRow] | type[MessageRow],
    ids: list[int],
    until: datetime,
    holder: str | None = None,
) -> None:
    """Move claimed rows' next attempt to `until`, where another instance could take them,
    naming the instance that holds them (`holder`).

    SQLite serves one instance (it is locked to it): there nothing else takes a row, so it is
    left due, and after a crash the restarted instance sends at once what was not sent.
    """
    if ids and session.get_bind().dialect.name != "sqlite":
        session.execute(
            update(table)
            .where(col(table.id).in_(ids))
            .values(next_attempt_at=until, claimed_by=holder)
        )


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
            .values(next_attempt_at=now, claimed_by=None)
        )
        session.commit()


def hold_alert(
    engine: Engine,
    alert_id: int,
    until: datetime,
    *,
    digest: str | None = None,
    session: Session | None = None,
) -> None:
    """Postpone an alert without counting an attempt: to `until` (quiet hours), or, with
    `digest`, into that digest due at `until` (debounce); inside `session` when given (the
    caller commits)."""
    values: dict[str, object] = {"next_attempt_at": until, "claimed_by": None}
    if digest is not None:
        values.update(status="queued", digest=digest)
    statement = (
        update(AlertRow)
        .where(col(AlertRow.id) == alert_id, col(AlertRow.status) == "pending")
        .values(**values)
    )
    if session is not None:
        session.execute(statement)
        return
    with Session(engine) as own:
        own.execute(statement)
        own.commit()


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
    values: dict[str, object] = {"claimed_by": None}  # a result ends the claim
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
