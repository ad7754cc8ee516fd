"""Reading the archive by article, story and profile: one article with its text, the articles
of a story and the profiles they hit, an article's hits, a profile's count of hits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from monitor.config.secrets import redact_url
from monitor.models import Hit
from monitor.store.feedback import with_feedback
from monitor.store.hits import as_hit, hits_joined
from monitor.store.tables import ArticleRow, FeedRow, HitRow


@dataclass(frozen=True, slots=True)
class ArticleView:
    """One stored article with its text, as a reader sees it. `url` is the link the feed gave
    (what a reader opens), `canonical_url` the address it is stored under; `feed` the feed's
    name, else its title, else its URL without credentials."""

    article_id: int
    url: str
    canonical_url: str
    title: str
    text: str
    language: str | None
    author: str | None
    sitename: str | None
    feed: str
    published_at: datetime | None
    fetched_at: datetime
    source: str  # "page", or "entry" when the page was not used (see note)
    note: str | None
    story_id: int | None


@dataclass(frozen=True, slots=True)
class StoryArticle:
    """One article of a story, without its text; `outlet` is the site's name, else the feed's
    name or title, else the feed's URL without credentials."""

    article_id: int
    outlet: str
    url: str
    title: str
    language: str | None
    published_at: datetime | None


def _feed_label(feed: FeedRow) -> str:
    return feed.name or feed.title or redact_url(feed.url)  # never a URL's password


def article_by_id(engine: Engine, article_id: int) -> ArticleView | None:
    """The article stored under this id with its feed, or None."""
    query = (
        sa_select(ArticleRow, FeedRow)
        .join(FeedRow, col(FeedRow.id) == ArticleRow.feed_id)
        .where(col(ArticleRow.id) == article_id)
    )
    with Session(engine) as session:
        row = session.execute(query).first()
    if row is None:
        return None
    article, feed = row
    return ArticleView(
        article_id=article.id or 0,
        url=article.link,
        canonical_url=article.url,
        title=article.title,
        text=article.text,
        language=article.language,
        author=article.author,
        sitename=article.sitename,
        feed=_feed_label(feed),
        published_at=article.published_at,
        fetched_at=article.fetched_at,
        source=article.source,
        note=article.note,
        story_id=article.story_id,
    )


def story_articles(engine: Engine, story_id: int) -> list[StoryArticle]:
    """The articles of a story, oldest first: by publication date (an undated article: when it
    was fetched), then in the order they were stored. Empty when there is no such story."""
    published = func.coalesce(col(ArticleRow.published_at), col(ArticleRow.fetched_at))
    query = (
        sa_select(
            col(ArticleRow.id),
            col(ArticleRow.sitename),
            col(ArticleRow.link),
            col(ArticleRow.title),
            col(ArticleRow.language),
            col(ArticleRow.published_at),
            FeedRow,
        )
        .join(FeedRow, col(FeedRow.id) == ArticleRow.feed_id)
        .where(col(ArticleRow.story_id) == story_id)
        .order_by(published, col(ArticleRow.id))
    )
    with Session(engine) as session:
        return [
            StoryArticle(
                article_id=article_id,
                outlet=sitename or _feed_label(feed),
                url=link,
                title=title,
                language=language,
                published_at=published_at,
            )
            for article_id, sitename, link, title, language, published_at, feed in (
                session.execute(query)
            )
        ]


def hits_of_article(engine: Engine, article_id: int) -> list[Hit]:
    """The hits of one article (one per profile it matched), by profile name, with their
    feedback."""
    query = hits_joined().where(col(HitRow.article_id) == article_id).order_by(HitRow.profile)
    with Session(engine) as session:
        return with_feedback(session, [as_hit(*row) for row in session.execute(query)])


def story_profiles(engine: Engine, story_id: int) -> list[str]:
    """The profiles any article of the story hit, by name."""
    query = (
        sa_select(col(HitRow.profile))
        .distinct()
        .join(ArticleRow, col(ArticleRow.id) == HitRow.article_id)
        .where(col(ArticleRow.story_id) == story_id)
        .order_by(col(HitRow.profile))
    )
    with Session(engine) as session:
        return list(session.execute(query).scalars())


def hit_total(engine: Engine, profile: str) -> int:
    """How many hits of `profile` are stored."""
    query = sa_select(func.count()).select_from(HitRow).where(col(HitRow.profile) == profile)
    with Session(engine) as session:
        total: int = session.execute(query).scalar_one()
    return total
