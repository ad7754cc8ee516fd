"""Which hit articles are looked at again, and when (tables.EvidenceWatchRow): a row made
with the article's original version, leased to the instance re-checking it (as a feed is to
the one polling it), and a re-check's result recorded in one transaction with the version it
found and the notices it sends, guarded so that it is recorded once: an instance killed
during a re-check leaves the lease to expire and the next takes it up; two that raced find
that one of them recorded it and the other's result is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, and_, or_, select, update
from sqlmodel import Session

from monitor.models import Capture
from monitor.store import messages, warcfiles
from monitor.store.tables import ArticleRow, EvidenceRow, EvidenceWatchRow, HitRow

_WATCH = EvidenceWatchRow.__table__  # type: ignore[attr-defined]
_VERSION = EvidenceRow.__table__  # type: ignore[attr-defined]
_ARTICLE = ArticleRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Watched:
    """A hit article due for a re-check, with what the re-check needs."""

    article_id: int
    url: str  # the address to fetch (the article's link)
    title: str
    step: int
    failures: int
    state: str
    text: str  # what the page said last (the text compared with)
    etag: str | None
    last_modified: str | None
    profiles: tuple[str, ...]  # the profiles with hits on it


@dataclass(frozen=True, slots=True)
class Found:
    """What a re-check found, to record: the version (None: an unanswered re-check not yet
    reported), the state it leaves, the text to compare with next, when to look again."""

    classification: str
    reason: str
    http_status: int | None  # None: no answer
    url: str  # after redirects
    next_at: datetime | None
    step: int
    failures: int
    state: str
    text: str
    capture: Capture | None = None  # the answer, when there was one
    kept: warcfiles.Kept | None = None  # its body, kept
    text_sha256: str | None = None
    removed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    etag: str | None = None
    last_modified: str | None = None
    record_version: bool = True


@dataclass(frozen=True, slots=True)
class Notice:
    """A notice of what became of an article: one message per channel, made once per key."""

    channels: tuple[str, ...]
    title: str
    body: str


def watch(
    conn: Connection,
    article_id: int,
    first: datetime,
    text: str,
    etag: str | None,
    last_modified: str | None,
) -> None:
    """Start watching an article: its first re-check at `first`."""
    conn.execute(
        _WATCH.insert(),
        {
            "article_id": article_id,
            "next_at": first,
            "step": 0,
            "failures": 0,
            "state": "original",
            "text": text,
            "etag": etag,
            "last_modified": last_modified,
        },
    )


def claim_due(
    engine: Engine,
    now: datetime,
    *,
    limit: int,
    lease: timedelta,
    holder: str | None,
    everything: bool = False,
) -> list[Watched]:
    """Lease up to `limit` articles due for a re-check (every watched one with `everything`),
    the longest overdue first; rows another instance holds are skipped."""
    due = [or_(_WATCH.c.lease_until.is_(None), _WATCH.c.lease_until <= now)]
    if not everything:
        due.append(and_(_WATCH.c.next_at.is_not(None), _WATCH.c.next_at <= now))
    query = (
        select(_WATCH, _ARTICLE.c.link, _ARTICLE.c.title)
        .join(_ARTICLE, _ARTICLE.c.id == _WATCH.c.article_id)
        .where(*due)
        .order_by(_WATCH.c.next_at.asc().nulls_last(), _WATCH.c.article_id)
        .limit(limit)
    )
    with Session(engine) as session:
        rows = list(session.execute(query.with_for_update(skip_locked=True, of=_WATCH)).mappings())
        ids = [row["article_id"] for row in rows]
        if ids:
            session.execute(
                update(_WATCH)
                .where(_WATCH.c.article_id.in_(ids))
                .values(lease_until=now + lease, claimed_by=holder)
            )
            profiles = _profiles(session, ids)
        session.commit()
    return [_watched(row, profiles.get(row["article_id"], ())) for row in rows]


def record(
    engine: Engine,
    watched: Watched,
    found: Found,
    now: datetime,
    notice: Notice | None = None,
) -> bool:
    """The re-check's result, its version and its notice in one transaction, if the article
    is still as `watched` found it (False: another instance recorded this re-check)."""
    with Session(engine) as session:
        result = session.execute(
            update(_WATCH)
            .where(
                _WATCH.c.article_id == watched.article_id,
                _WATCH.c.step == watched.step,
                _WATCH.c.failures == watched.failures,
            )
            .values(
                next_at=found.next_at,
                step=found.step,
                failures=found.failures,
                state=found.state,
                text=found.text,
                etag=found.etag,
                last_modified=found.last_modified,
                lease_until=None,
                claimed_by=None,
            )
        )
        if not getattr(result, "rowcount", 0):
            session.rollback()
            return False
        version_id: int | None = None
        if found.record_version:
            version_id = _add_version(session, watched.article_id, found, now)
        if notice is not None and notice.channels and version_id is not None:
            messages.enqueue(
                engine,
                list(notice.channels),
                f"evidence:{watched.article_id}:{version_id}",
                f"evidence-{found.classification}",
                now,
                title=notice.title,
                body=notice.body,
                session=session,
            )
        session.commit()
    return True


def release(engine: Engine, article_ids: Sequence[int]) -> None:
    """Give back leases a stopped re-check pass did not use."""
    if article_ids:
        with engine.begin() as conn:
            conn.execute(
                update(_WATCH)
                .where(_WATCH.c.article_id.in_(list(article_ids)))
                .values(lease_until=None, claimed_by=None)
            )


def _add_version(session: Session, article_id: int, found: Found, now: datetime) -> int:
    capture, kept = found.capture, found.kept
    row = session.execute(
        _VERSION.insert().returning(_VERSION.c.id),
        {
            "article_id": article_id,
            "fetched_at": capture.fetched_at if capture else now,
            "url": found.url,
            "http_status": found.http_status,
            "classification": found.classification,
            "reason": found.reason,
            "sha256": kept.sha256 if kept else None,
            "text_sha256": found.text_sha256,
            "warc": kept.path if kept else None,
            "wrote_body": bool(kept and kept.wrote),
            "headers": [list(p) for p in capture.headers] if capture else [],
            "request_headers": [list(p) for p in capture.request_headers] if capture else [],
            "removed": list(found.removed),
            "added": list(found.added),
            "text": found.text if found.classification == "edited" else None,
        },
    ).scalar_one()
    return int(row)


def _profiles(session: Session, article_ids: list[int]) -> dict[int, tuple[str, ...]]:
    hits = HitRow.__table__  # type: ignore[attr-defined]
    found: dict[int, set[str]] = {}
    query = select(hits.c.article_id, hits.c.profile).where(hits.c.article_id.in_(article_ids))
    for article_id, profile in session.execute(query):
        found.setdefault(article_id, set()).add(profile)
    return {key: tuple(sorted(names)) for key, names in found.items()}


def _watched(row: Any, profiles: tuple[str, ...]) -> Watched:
    return Watched(
        article_id=row["article_id"],
        url=row["link"],
        title=row["title"] or "",
        step=row["step"],
        failures=row["failures"],
        state=row["state"],
        text=row["text"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        profiles=profiles,
    )


class Watches:
    """The watch list of one instance, as monitor.evidence.recheck calls it."""

    def __init__(
        self, engine: Engine, folder: Path, *, lease: timedelta, holder: str | None
    ) -> None:
        self.engine, self.folder, self.lease, self.holder = engine, folder, lease, holder

    def claim_due(self, now: datetime, *, limit: int, everything: bool) -> list[Watched]:
        return claim_due(
            self.engine,
            now,
            limit=limit,
            lease=self.lease,
            holder=self.holder,
            everything=everything,
        )

    def keep(self, capture: Capture) -> warcfiles.Kept | None:
        """The answer's body in the evidence folder (without it, when the folder cannot be
        written: the version is recorded all the same)."""
        return warcfiles.keep_or_say(self.folder, capture)

    def record(self, watched: Watched, found: Found, now: datetime, notice: Notice | None) -> bool:
        return record(self.engine, watched, found, now, notice)

    def release(self, article_ids: Sequence[int]) -> None:
        release(self.engine, article_ids)
