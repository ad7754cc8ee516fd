"""Reading stored hits for people and scripts (the `monitor hits` command)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from monitor.store.tables import ArticleRow, FeedRow, HitRow


@dataclass(frozen=True, slots=True)
class HitView:
    """One stored hit with its article and feed, as shown and exported."""

    profile: str
    url: str
    title: str
    feed: str
    published_at: datetime | None
    matched_terms: list[str]
    score: float
    snippet: str
    created_at: datetime
    language: str | None
    profile_version: str


def query_hits(
    engine: Engine,
    *,
    profile: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[HitView]:
    """Hits newest first, optionally for one profile and created at or after `since`."""
    query = (
        select(HitRow, ArticleRow, FeedRow)
        .join(ArticleRow, col(ArticleRow.id) == HitRow.article_id)
        .join(FeedRow, col(FeedRow.id) == ArticleRow.feed_id)
        .order_by(col(HitRow.created_at).desc(), col(HitRow.id).desc())
    )
    if profile is not None:
        query = query.where(HitRow.profile == profile)
    if since is not None:
        query = query.where(col(HitRow.created_at) >= since)
    if limit is not None:
        query = query.limit(limit)
    with Session(engine) as session:
        return [
            HitView(
                profile=hit.profile,
                url=article.link,
                title=article.title,
                feed=feed.name or feed.title or feed.url,
                published_at=article.published_at,
                matched_terms=list(hit.matched_terms),
                score=hit.score,
                snippet=hit.snippet,
                created_at=hit.created_at,
                language=article.language,
                profile_version=hit.profile_version,
            )
            for hit, article, feed in session.exec(query)
        ]
