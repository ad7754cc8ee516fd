"""Retention: an article's text (and what serves only near-duplicate detection for it: its
signature and story bands) is deleted once it is older than `retention.article_text`. The
article row (title, link, dates), its entries, its hits with their snippets, alerts and
messages stay forever, so `monitor hits` and digests still show them.

Search skips pruned articles (their text is gone); the search index forgets them on
PostgreSQL and keeps their rows in SQLite's contentless FTS5 table, which can forget a row only
when told exactly what it indexed (store.search.forget). A pruned article has an empty
text (the column is NOT NULL), no signature and no band: prune skips those, so a second run
changes nothing. Its cost is one pass over the article table by primary key (there is no
index on fetched_at), reading the text of old articles only, which is empty once pruned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, LargeBinary, cast, delete, exists, func, or_, select, update
from sqlalchemy.exc import OperationalError

from monitor.errors import StoreError
from monitor.store.search import forget
from monitor.store.tables import ArticleRow, StoryBandRow

_ARTICLE = ArticleRow.__table__  # type: ignore[attr-defined]
_BAND = StoryBandRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class PruneReport:
    """What one prune removed; `cutoff` is None when retention keeps text forever."""

    articles: int
    story_bands: int
    text_bytes: int  # UTF-8 bytes of article text deleted
    cutoff: datetime | None


def count_prunable(engine: Engine, now: datetime, keep: timedelta | None) -> tuple[int, int]:
    """(articles, bytes of text) that `prune` would remove now: nothing when keep is None."""
    if keep is None:
        return 0, 0
    text_bytes = _text_bytes(engine)
    with engine.connect() as conn:
        articles, size = conn.execute(
            select(func.count(), func.coalesce(func.sum(text_bytes), 0))
            .select_from(_ARTICLE)
            .where(*_prunable(now - keep))
        ).one()
    return int(articles), int(size)


def prune(
    engine: Engine, now: datetime, keep: timedelta | None, *, batch: int = 500
) -> PruneReport:
    """Delete the text, signature and story bands of articles fetched before `now - keep`,
    `batch` articles per transaction (walking the primary key, so each batch starts where the
    last one stopped). `keep` None: text is kept forever and nothing is done."""
    if keep is None:
        return PruneReport(articles=0, story_bands=0, text_bytes=0, cutoff=None)
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    cutoff = now - keep
    pick = (
        select(_ARTICLE.c.id, _text_bytes(engine))
        .where(*_prunable(cutoff))
        .order_by(_ARTICLE.c.id)
        .limit(batch)
    )
    articles = bands = text_bytes = 0
    after = 0
    while True:
        with engine.begin() as conn:
            rows = conn.execute(pick.where(_ARTICLE.c.id > after)).all()
            if not rows:
                break
            ids = [row[0] for row in rows]
            forget(conn, ids)
            conn.execute(
                update(_ARTICLE).where(_ARTICLE.c.id.in_(ids)).values(text="", signature=None)
            )
            bands += conn.execute(delete(_BAND).where(_BAND.c.article_id.in_(ids))).rowcount
        articles += len(ids)
        text_bytes += sum(size or 0 for _, size in rows)
        after = ids[-1]
        if len(rows) < batch:
            break
    return PruneReport(articles=articles, story_bands=bands, text_bytes=text_bytes, cutoff=cutoff)


def _prunable(cutoff: datetime) -> tuple[Any, ...]:
    """Old articles with something left to delete. `text <> ''` is cheap on both databases:
    PostgreSQL compares lengths before detoasting, and a pruned text is empty."""
    return (
        _ARTICLE.c.fetched_at < cutoff,
        or_(
            _ARTICLE.c.text != "",
            _ARTICLE.c.signature.is_not(None),
            exists().where(_BAND.c.article_id == _ARTICLE.c.id),
        ),
    )


def _text_bytes(engine: Engine) -> Any:
    """The UTF-8 size of an article's text: octet_length (no detoasting) on PostgreSQL; SQLite
    before 3.43 has no octet_length, the length of the text as a blob is its byte count."""
    if engine.dialect.name == "postgresql":
        return func.octet_length(_ARTICLE.c.text)
    return func.length(cast(_ARTICLE.c.text, LargeBinary))


def database_size(engine: Engine) -> int | None:
    """Bytes the database takes on disk: for SQLite its pages plus the write-ahead log (None
    for an in-memory database), for PostgreSQL pg_database_size."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return int(conn.scalar(select(func.pg_database_size(func.current_database()))) or 0)
        if engine.dialect.name != "sqlite":
            return None
        path = engine.url.database
        if not path or path == ":memory:" or "mode=memory" in path:
            return None
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        page_size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
    wal = Path(f"{path}-wal")
    return int(pages) * int(page_size) + (wal.stat().st_size if wal.exists() else 0)


def vacuum(engine: Engine) -> None:
    """Give freed space back: SQLite rewrites the file (then truncates the write-ahead log,
    which VACUUM fills with the whole database); PostgreSQL's VACUUM makes the space of
    deleted text reusable (only VACUUM FULL, which locks every table, shrinks the files)."""
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM")
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    except OperationalError as exc:
        raise StoreError(f"VACUUM failed on {engine.url!r}: {exc.orig}") from None
