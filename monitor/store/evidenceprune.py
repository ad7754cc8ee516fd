"""Evidence retention (`evidence.retention`, default: kept for good): a hit article's evidence,
all its versions, its watch and the files no other version names, is deleted once its latest
version is older than the retention. The article, its hits and their snippets stay (as with
`retention.article_text`). Rows go first, one transaction per batch of articles; then the
files of the bodies no remaining version names: a crash between the two leaves files the
index no longer names, which the next prune of the same bodies, or a look at the folder,
finds harmless (a file is named by its body, never reused for another).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, Select, delete, func, select

from monitor.store.tables import EvidenceRow, EvidenceWatchRow

_VERSION = EvidenceRow.__table__  # type: ignore[attr-defined]
_WATCH = EvidenceWatchRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class EvidencePruned:
    """What one evidence prune removed (or, counted, would remove)."""

    articles: int
    versions: int
    files: int
    file_bytes: int


def _expired(cutoff: datetime) -> Select[tuple[int]]:
    """The articles whose latest version was fetched before `cutoff`."""
    return (
        select(_VERSION.c.article_id)
        .group_by(_VERSION.c.article_id)
        .having(func.max(_VERSION.c.fetched_at) < cutoff)
    )


def count_prunable_evidence(engine: Engine, now: datetime, keep: timedelta | None) -> int:
    """How many articles' evidence `prune_evidence` would delete now (None: kept for good)."""
    if keep is None:
        return 0
    with engine.connect() as conn:
        query = select(func.count()).select_from(_expired(now - keep).subquery())
        return int(conn.execute(query).scalar_one())


def prune_evidence(
    engine: Engine, folder: Path, now: datetime, keep: timedelta | None, *, batch: int = 200
) -> EvidencePruned:
    """Delete the evidence of articles whose latest version is older than `now - keep`."""
    if keep is None:
        return EvidencePruned(0, 0, 0, 0)
    cutoff = now - keep
    articles = versions = 0
    bodies: dict[str, str] = {}  # sha256 -> file of the versions deleted
    while True:
        with engine.begin() as conn:
            ids = list(conn.execute(_expired(cutoff).limit(batch)).scalars())
            if not ids:
                break
            rows = conn.execute(
                select(_VERSION.c.sha256, _VERSION.c.warc).where(_VERSION.c.article_id.in_(ids))
            ).all()
            bodies.update({sha: path for sha, path in rows if sha and path})
            versions += len(rows)
            articles += len(ids)
            conn.execute(delete(_WATCH).where(_WATCH.c.article_id.in_(ids)))
            conn.execute(delete(_VERSION).where(_VERSION.c.article_id.in_(ids)))
    files = file_bytes = 0
    if bodies:
        with engine.connect() as conn:
            named = set(
                conn.execute(
                    select(_VERSION.c.sha256).where(_VERSION.c.sha256.in_(list(bodies)))
                ).scalars()
            )
        for sha, path in bodies.items():
            target = folder / path
            if sha in named or not target.is_file():
                continue  # another article's version names it, or it is gone already
            file_bytes += target.stat().st_size
            target.unlink()
            files += 1
    return EvidencePruned(articles, versions, files, file_bytes)
