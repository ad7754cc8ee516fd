"""Reading stored hits with their article and feed: for people, scripts and alert messages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from monitor.config.secrets import redact_url
from monitor.models import Hit, Outlets
from monitor.profiles.candidates import Need
from monitor.store.feedback import with_feedback
from monitor.store.search import language_is, lookup, use_index
from monitor.store.tables import ArticleRow, EvidenceRow, EvidenceWatchRow, FeedRow, HitRow


def hits_joined(*extra: Any) -> Any:
    """SELECT hit, article, feed (and `extra` entities first) joined along their keys."""
    return (
        sa_select(*extra, HitRow, ArticleRow, FeedRow)
        .select_from(HitRow)
        .join(ArticleRow, col(ArticleRow.id) == HitRow.article_id)
        .join(FeedRow, col(FeedRow.id) == ArticleRow.feed_id)
    )


def as_hit(hit: HitRow, article: ArticleRow, feed: FeedRow) -> Hit:
    return Hit(
        profile=hit.profile,
        url=article.link,
        title=article.title,
        feed=feed.name or feed.title or redact_url(feed.url),  # never a URL's password
        published_at=article.published_at,
        matched_terms=list(hit.matched_terms),
        score=hit.score,
        snippet=hit.snippet,
        snippets=list(hit.snippets),
        created_at=hit.created_at,
        language=article.language,
        profile_version=hit.profile_version,
        matched_on=article.source,
        note=article.note,
        article_id=article.id or 0,
        story_id=article.story_id,
        id=hit.id or 0,
    )


def story_outlets(session: Session, hits: Sequence[Hit]) -> list[Outlets]:
    """For each hit, (outlet, link) of the other articles of its story, in the order they
    arrived: one query for all the stories (in chunks), without the articles' text."""
    stories = sorted({hit.story_id for hit in hits if hit.story_id})
    article, feed = ArticleRow.__table__, FeedRow.__table__  # type: ignore[attr-defined]
    members: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for start in range(0, len(stories), 500):
        rows = session.execute(
            sa_select(
                article.c.story_id,
                article.c.id,
                article.c.sitename,
                article.c.link,
                feed.c.name,
                feed.c.title,
                feed.c.url,
            )
            .join(feed, feed.c.id == article.c.feed_id)
            .where(article.c.story_id.in_(stories[start : start + 500]))
            .order_by(article.c.id)
        )
        for story, article_id, sitename, link, name, title, url in rows:
            outlet = sitename or name or title or redact_url(url)
            members[story].append((article_id, outlet, link))
    return [
        tuple(
            (outlet, link)
            for article_id, outlet, link in members[hit.story_id or 0]
            if article_id != hit.article_id
        )
        for hit in hits
    ]


@dataclass(frozen=True, slots=True)
class HitFilter:
    """What a list of hits is narrowed to (the read API's and `monitor hits`' parameters);
    None: no filter. `since` and `until` are publication dates (an undated article counts
    from when it was fetched); `stored_since`, when the hit was stored."""

    profile: str | None = None
    feed: str | None = None  # the feed's name, title or URL
    language: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    story: int | None = None
    stored_since: datetime | None = None
    text: Need | None = None  # what the search index must admit (archive.search.search_hits)
    changed: str | None = None  # the article's state now (evidence): "edited" or "removed"
    changed_since: datetime | None = None  # ... reached by a re-check at or after this


def query_hits(
    engine: Engine,
    *,
    profile: str | None = None,
    published_since: datetime | None = None,
    stored_since: datetime | None = None,
    limit: int | None = None,
    changed: str | None = None,
) -> list[Hit]:
    """Hits newest stored first, optionally for one profile, of articles published at or after
    `published_since` (an undated article counts from when it was fetched) and stored at or
    after `stored_since`, whose article is now `changed` ("edited" or "removed"); each with
    its feedback."""
    where = HitFilter(
        profile=profile, since=published_since, stored_since=stored_since, changed=changed
    )
    query = _selected(where, engine.dialect.name)
    with Session(engine) as session:
        rows = session.exec(query if limit is None else query.limit(limit))
        return with_feedback(session, [as_hit(*row) for row in rows])


def page_of_hits(
    engine: Engine, where: HitFilter, limit: int, after: tuple[datetime, int] | None = None
) -> list[Hit]:
    """At most `limit` hits, newest stored first, after the (stored at, id) of the last hit
    of the previous page: a keyset page, as fast on page 1,000 as on page 1. Each hit comes
    with its feedback (one more query for the page)."""
    query = _selected(where, engine.dialect.name)
    if after is not None:
        stored, hit_id = after
        query = query.where(
            or_(
                col(HitRow.created_at) < stored,
                and_(col(HitRow.created_at) == stored, col(HitRow.id) < hit_id),
            )
        )
    with Session(engine) as session:
        if where.text is not None:
            use_index(session.connection())
        return with_feedback(session, [as_hit(*row) for row in session.exec(query.limit(limit))])


def _selected(where: HitFilter, dialect: str) -> Any:
    """Hits with their article and feed, narrowed by `where`, newest stored first."""
    query = hits_joined().order_by(col(HitRow.created_at).desc(), col(HitRow.id).desc())
    published = col(HitRow.published)  # the article's date, its fetch date when undated
    if where.profile is not None:
        query = query.where(HitRow.profile == where.profile)
    if where.language is not None:
        query = query.where(language_is(col(ArticleRow.language), where.language))
    if where.since is not None:
        # coalesce(x, x) is x that no index serves: a list newest stored first then walks
        # (profile, created_at) and stops at its page, where the published index would have
        # it fetch and sort every hit since `since` first (127 ms vs 9 ms on 1M articles)
        query = query.where(func.coalesce(published, published) >= where.since)
    if where.until is not None:
        query = query.where(published < where.until)
    if where.story is not None:
        query = query.where(ArticleRow.story_id == where.story)
    if where.stored_since is not None:
        query = query.where(col(HitRow.created_at) >= where.stored_since)
    if where.text is not None:
        query = query.where(col(HitRow.article_id).in_(lookup(where.text, dialect)))
    if where.changed is not None:
        query = query.where(col(HitRow.article_id).in_(_changed(where)))
    if where.feed is not None:
        name = where.feed
        query = query.where(
            or_(col(FeedRow.name) == name, col(FeedRow.title) == name, col(FeedRow.url) == name)
        )
    return query


def _changed(where: HitFilter) -> Any:
    """The articles whose state now is `where.changed`, reached since `where.changed_since`."""
    query = select(EvidenceWatchRow.article_id).where(EvidenceWatchRow.state == where.changed)
    if where.changed_since is not None:
        query = query.where(
            col(EvidenceWatchRow.article_id).in_(
                select(EvidenceRow.article_id).where(
                    EvidenceRow.classification == where.changed,
                    col(EvidenceRow.fetched_at) >= where.changed_since,
                )
            )
        )
    return query


def hit_by_id(engine: Engine, hit_id: int) -> Hit | None:
    """One stored hit with its article, feed and feedback, or None."""
    with Session(engine) as session:
        row = session.exec(hits_joined().where(col(HitRow.id) == hit_id)).first()
        return with_feedback(session, [as_hit(*row)])[0] if row is not None else None


def hit_counts(engine: Engine, since: datetime, until: datetime) -> dict[str, int]:
    """Hits stored per profile in [since, until)."""
    with Session(engine) as session:
        rows = session.exec(
            select(HitRow.profile, func.count())
            .where(col(HitRow.created_at) >= since, col(HitRow.created_at) < until)
            .group_by(col(HitRow.profile))
        ).all()
    return dict(rows)


def first_hits(engine: Engine) -> dict[str, datetime]:
    """When each profile's first stored hit was made."""
    with Session(engine) as session:
        rows = session.exec(
            select(HitRow.profile, func.min(HitRow.created_at)).group_by(col(HitRow.profile))
        ).all()
    return {profile: first for profile, first in rows if first is not None}
