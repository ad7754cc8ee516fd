"""The versions of a profile saved from the web application or the API: each the whole file
text, who saved it and when, newest first; restoring one saves it again as the newest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from monitor.store.tables import ProfileVersionRow

KEPT = 200  # versions listed at most (all are kept)


@dataclass(frozen=True, slots=True)
class ProfileVersion:
    id: int
    profile: str
    text: str
    saved_by: str
    saved_at: datetime
    note: str


def record_version(
    engine: Engine, profile: str, text: str, who: str, at: datetime, note: str = ""
) -> int:
    """Keep `text` as the newest version of `profile`; its id."""
    with Session(engine) as session:
        row = ProfileVersionRow(profile=profile, text=text, saved_by=who, saved_at=at, note=note)
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def versions(engine: Engine, profile: str, limit: int = KEPT) -> list[ProfileVersion]:
    """The saved versions of `profile`, newest first."""
    with Session(engine) as session:
        rows = session.exec(
            select(ProfileVersionRow)
            .where(ProfileVersionRow.profile == profile)
            .order_by(col(ProfileVersionRow.saved_at).desc(), col(ProfileVersionRow.id).desc())
            .limit(limit)
        ).all()
        return [_version(row) for row in rows]


def version_by_id(engine: Engine, profile: str, version_id: int) -> ProfileVersion | None:
    with Session(engine) as session:
        row = session.get(ProfileVersionRow, version_id)
        return _version(row) if row is not None and row.profile == profile else None


def _version(row: ProfileVersionRow) -> ProfileVersion:
    assert row.id is not None
    return ProfileVersion(row.id, row.profile, row.text, row.saved_by, row.saved_at, row.note)
