"""The instance registry: every `monitor run` process sharing the database, its heartbeat and
its last successful cycle, for `monitor status` and health checks across machines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, or_, update
from sqlmodel import Session, col, select

from monitor.store.tables import InstanceRow


@dataclass(frozen=True, slots=True)
class InstanceInfo:
    id: str
    host: str
    pid: int
    version: str
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
    last_cycle_at: datetime | None
    last_cycle: dict[str, Any] | None


def register(
    engine: Engine, *, instance_id: str, host: str, pid: int, version: str, now: datetime
) -> None:
    """Add this process (`instance_id`: a uuid4 hex it chose) to the registry."""
    with Session(engine) as session:
        session.add(
            InstanceRow(
                id=instance_id,
                host=host[:255],
                pid=pid,
                version=version[:40],
                started_at=now,
                heartbeat_at=now,
            )
        )
        session.commit()


def heartbeat(engine: Engine, instance_id: str, now: datetime) -> None:
    _update(engine, instance_id, heartbeat_at=now)


def record_cycle(engine: Engine, instance_id: str, now: datetime, summary: dict[str, Any]) -> None:
    """A successful cycle ended at `now`; `summary` holds JSON values (counts, durations)."""
    _update(engine, instance_id, heartbeat_at=now, last_cycle_at=now, last_cycle=summary)


def stop(engine: Engine, instance_id: str, now: datetime) -> None:
    _update(engine, instance_id, stopped_at=now)


def _update(engine: Engine, instance_id: str, **values: Any) -> None:
    """Change one instance's row; a row `forget` removed stays removed (register again)."""
    with Session(engine) as session:
        session.execute(
            update(InstanceRow).where(col(InstanceRow.id) == instance_id).values(values)
        )
        session.commit()


def instances(engine: Engine) -> list[InstanceInfo]:
    """Every registered instance, the one heard of last first."""
    query = select(InstanceRow).order_by(col(InstanceRow.heartbeat_at).desc(), col(InstanceRow.id))
    with Session(engine) as session:
        return [_info(row) for row in session.exec(query)]


def is_alive(info: InstanceInfo, now: datetime, timeout: timedelta) -> bool:
    """Not stopped, and heard of within `timeout` (a process killed never says it stopped)."""
    return info.stopped_at is None and now - info.heartbeat_at <= timeout


def forget(engine: Engine, before: datetime) -> int:
    """Remove the instances stopped, or silent, since before `before`; how many."""
    with Session(engine) as session:
        result = session.execute(
            delete(InstanceRow).where(
                or_(col(InstanceRow.stopped_at) < before, col(InstanceRow.heartbeat_at) < before)
            )
        )
        session.commit()
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def last_cycle(engine: Engine) -> InstanceInfo | None:
    """The instance whose last successful cycle ended last (None before any cycle)."""
    query = (
        select(InstanceRow)
        .where(col(InstanceRow.last_cycle_at).is_not(None))
        .order_by(col(InstanceRow.last_cycle_at).desc(), col(InstanceRow.id))
        .limit(1)
    )
    with Session(engine) as session:
        row = session.exec(query).first()
        return None if row is None else _info(row)


def _info(row: InstanceRow) -> InstanceInfo:
    """The row as read: its datetimes are aware and in UTC on both databases (UTCDateTime)."""
    return InstanceInfo(
        id=row.id,
        host=row.host,
        pid=row.pid,
        version=row.version,
        started_at=row.started_at,
        heartbeat_at=row.heartbeat_at,
        stopped_at=row.stopped_at,
        last_cycle_at=row.last_cycle_at,
        last_cycle=row.last_cycle,
    )
