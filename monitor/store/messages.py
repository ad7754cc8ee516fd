"""The message outbox: digests and notices, one row per (channel, key), with their results.

A digest row is made when its period is over, in the same transaction that moves the queued
alerts of that period onto it; it is rendered from those alerts when it is sent. A notice row
holds its own title and body. The (channel, key) constraint makes every write idempotent, and
closing a period locks its queued alerts (another instance closing it at the same time waits
and then finds them digested), so instances sharing a PostgreSQL database make each digest once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from monitor.models import DigestHit
from monitor.store.engine import insert_ignoring_duplicates
from monitor.store.hits import as_hit, hits_joined, story_outlets
from monitor.store.tables import AlertRow, HitRow, MessageRow


def enqueue(
    engine: Engine,
    channels: list[str],
    key: str,
    kind: str,
    now: datetime,
    *,
    title: str | None = None,
    body: str | None = None,
    session: Session | None = None,
    **digest: Any,
) -> int:
    """Add a message for each channel unless one with this key exists; how many were added."""
    added = 0

    def write(s: Session) -> None:
        nonlocal added
        for channel in channels:
            inserted = s.execute(
                insert_ignoring_duplicates(engine, MessageRow)
                .values(
                    channel=channel,
                    key=key,
                    kind=kind,
                    title=title,
                    body=body,
                    status="pending",
                    attempts=0,
                    created_at=now,
                    next_attempt_at=now,
                    **digest,
                )
                .returning(col(MessageRow.id))
            ).scalar()
            added += inserted is not None  # None: a message with this key was there already

    if session is not None:
        write(session)
        return added
    with Session(engine) as own:
        write(own)
        own.commit()
    return added


def close_digests(engine: Engine, now: datetime, period_starts: dict[str, Any]) -> int:
    """Turn every queued alert whose digest is due into part of a digest message: one message
    per (channel, schedule, due time), made and filled in one transaction. `period_starts`
    maps a schedule name to a function giving the period start for a due time (or None)."""
    with Session(engine) as session:
        due = session.exec(
            select(AlertRow.id, AlertRow.channel, AlertRow.digest, AlertRow.next_attempt_at)
            .where(col(AlertRow.status) == "queued", col(AlertRow.next_attempt_at) <= now)
            .order_by(col(AlertRow.id))
            # an instance closing them at the same time waits, then finds them digested
            .with_for_update()
        ).all()
        groups: dict[tuple[str, str, datetime], list[int]] = defaultdict(list)
        for alert_id, channel, schedule, due_at in due:
            groups[(channel, schedule or "", due_at)].append(alert_id or 0)
        for (channel, schedule, due_at), ids in groups.items():
            key = digest_key(schedule, due_at)
            if _already_sent(session, channel, key):
                key += f"+{min(ids)}"  # hits stored after their digest went out: a follow-up
            starts = period_starts.get(schedule)
            enqueue(
                engine,
                [channel],
                key,
                "digest",
                now,
                session=session,
                schedule=schedule,
                period_start=starts(due_at) if starts else None,
                period_end=due_at,
            )
            message_id = session.exec(
                select(MessageRow.id).where(MessageRow.channel == channel, MessageRow.key == key)
            ).one()
            session.execute(
                update(AlertRow)
                .where(col(AlertRow.id).in_(ids), col(AlertRow.status) == "queued")
                .values(status="digested", message_id=message_id)
            )
        session.commit()
        return len(groups)


def _already_sent(session: Session, channel: str, key: str) -> bool:
    status = session.exec(
        select(MessageRow.status).where(MessageRow.channel == channel, MessageRow.key == key)
    ).first()
    return status is not None and status != "pending"


def digest_key(schedule: str, due_at: datetime) -> str:
    """The message key of a digest: its schedule and due time (in UTC, whatever the zone)."""
    return f"digest:{schedule}:{due_at.astimezone(UTC).isoformat(timespec='seconds')}"


def digest_hits(engine: Engine, message_id: int) -> list[DigestHit]:
    """The hits a digest carries, newest first, each with its story's other outlets."""
    query = (
        hits_joined(AlertRow)
        .join(AlertRow, col(AlertRow.hit_id) == HitRow.id)
        .where(col(AlertRow.message_id) == message_id)
        .order_by(col(HitRow.created_at).desc(), col(HitRow.id).desc())
    )
    with Session(engine) as session:
        rows = [(alert, as_hit(*rest)) for alert, *rest in session.exec(query)]
        outlets = story_outlets(session, [hit for _, hit in rows])
    return [
        DigestHit(hit, also, alert.id or 0)
        for (alert, hit), also in zip(rows, outlets, strict=True)
    ]
