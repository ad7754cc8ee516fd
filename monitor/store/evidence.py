"""The evidence index: one row per version of a hit article's page (tables.EvidenceRow),
its body in a WARC file named by its SHA-256 (warcfiles.py). The original is recorded in the
transaction that stores the article and its hits (articles.store_article); what later
re-checks find is added here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from monitor.models import Capture
from monitor.store import warcfiles
from monitor.store.evidencewatch import watch
from monitor.store.tables import ArticleRow, EvidenceRow, HitRow

CLASSIFICATIONS = ("original", "unchanged", "edited", "removed", "unreachable")


@dataclass(frozen=True, slots=True)
class Keeping:
    """Where pages are kept (`evidence.dir`) and when the first re-check comes (the first of
    `evidence.recheck`; None: none)."""

    folder: Path
    first_recheck: float | None = None


@dataclass(frozen=True, slots=True)
class Version:
    """One version of an article's page, as `monitor evidence` and the API show it."""

    id: int
    article_id: int
    fetched_at: datetime
    url: str
    http_status: int | None
    classification: str
    reason: str
    sha256: str | None
    text_sha256: str | None
    warc: str | None
    wrote_body: bool
    headers: tuple[tuple[str, str], ...]
    request_headers: tuple[tuple[str, str], ...]
    removed: tuple[str, ...]
    added: tuple[str, ...]
    text: str | None = None  # the extracted text, when it differs from the version before

    def record(self) -> dict[str, Any]:
        """The JSON form (`monitor evidence --format json`), oldest version first."""
        return {
            "id": self.id,
            "fetched_at": self.fetched_at.isoformat(),
            "url": self.url,
            "http_status": self.http_status,
            "classification": self.classification,
            "reason": self.reason,
            "sha256": self.sha256,
            "text_sha256": self.text_sha256,
            "removed": list(self.removed),
            "added": list(self.added),
        }


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def add_original(
    conn: Connection,
    keeping: Keeping,
    article_id: int,
    capture: Capture,
    kept: warcfiles.Kept,
    text: str,
) -> None:
    """The version the hit was made on, in the article's transaction, and its watch (when
    re-checks are on)."""
    conn.execute(
        EvidenceRow.__table__.insert(),  # type: ignore[attr-defined]
        {
            "article_id": article_id,
            "fetched_at": capture.fetched_at,
            "url": capture.final_url,
            "http_status": capture.status,
            "classification": "original",
            "reason": "",
            "sha256": kept.sha256,
            "text_sha256": text_sha256(text),
            "warc": kept.path,
            "wrote_body": kept.wrote,
            "headers": [list(pair) for pair in capture.headers],
            "request_headers": [list(pair) for pair in capture.request_headers],
            "removed": [],
            "added": [],
            "text": text,
        },
    )
    if keeping.first_recheck is not None:
        headers = {name.lower(): value for name, value in capture.headers}
        first = capture.fetched_at + timedelta(seconds=keeping.first_recheck)
        watch(conn, article_id, first, text, headers.get("etag"), headers.get("last-modified"))


def versions(engine: Engine, article_id: int) -> list[Version]:
    """Every version of an article's page, oldest first."""
    table = EvidenceRow.__table__  # type: ignore[attr-defined]
    query = (
        select(table)
        .where(table.c.article_id == article_id)
        .order_by(table.c.fetched_at, table.c.id)
    )
    with engine.connect() as conn:
        return [_version(row) for row in conn.execute(query).mappings()]


def article_of(engine: Engine, hit_or_url: str) -> int | None:
    """The article a hit id or an article's address names (its stored URL or its link)."""
    articles, hits = ArticleRow.__table__, HitRow.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        if hit_or_url.isdigit():
            found = conn.execute(
                select(hits.c.article_id).where(hits.c.id == int(hit_or_url))
            ).scalar()
            return int(found) if found is not None else None
        found = conn.execute(
            select(articles.c.id)
            .where((articles.c.url == hit_or_url) | (articles.c.link == hit_or_url))
            .order_by(articles.c.id)
            .limit(1)
        ).scalar()
        return int(found) if found is not None else None


def _version(row: Any) -> Version:
    return Version(
        id=row["id"],
        article_id=row["article_id"],
        fetched_at=_aware(row["fetched_at"]),
        url=row["url"],
        http_status=row["http_status"],
        classification=row["classification"],
        reason=row["reason"],
        sha256=row["sha256"],
        text_sha256=row["text_sha256"],
        warc=row["warc"],
        wrote_body=bool(row["wrote_body"]),
        headers=warcfiles.header_pairs(row["headers"] or ()),
        request_headers=warcfiles.header_pairs(row["request_headers"] or ()),
        removed=tuple(row["removed"] or ()),
        added=tuple(row["added"] or ()),
        text=row["text"],
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
