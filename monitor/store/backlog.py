"""The outbox as operators see it: rows per status, what is pending or given up on, and
requeueing failures (`monitor alerts status | retry`, `monitor status`, /metrics)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select

from monitor.store.hits import hits_joined
from monitor.store.tables import AlertRow, HitRow, MessageRow


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


def undelivered_messages(engine: Engine, limit: int = 200) -> list[MessageRow]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(MessageRow)
                .where(col(MessageRow.status).in_(["pending", "failed"]))
                .order_by(col(MessageRow.id))
                .limit(limit)
            ).all()
        )
