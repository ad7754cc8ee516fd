"""Entries, articles and hits: what is already known, and storing a processed entry at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from monitor.models import Article, Entry, Match, Route
from monitor.store.engine import insert_ignoring_duplicates
from monitor.store.tables import AlertRow, ArticleRow, EntryRow, FeedRow, HitRow, StoryBandRow


@dataclass(frozen=True, slots=True)
class Stored:
    """What storing one entry added."""

    article_id: int
    new_hits: int
    new_alerts: int


def unseen(engine: Engine, feed_id: int, entries: Iterable[Entry]) -> list[Entry]:
    """The entries of this feed not stored yet (first occurrence of a repeated guid only)."""
    pending = {entry.guid: entry for entry in reversed(list(entries))}
    if not pending:
        return []
    known = stored_guids(engine, feed_id, pending)
    return [entry for guid, entry in reversed(pending.items()) if guid not in known]


def stored_guids(engine: Engine, feed_id: int, guids: Iterable[str]) -> set[str]:
    """Which of these entry identities this feed has stored already."""
    wanted = list(dict.fromkeys(guids))
    known: set[str] = set()
    with Session(engine) as session:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            known.update(
                session.exec(
                    select(EntryRow.guid).where(
                        EntryRow.feed_id == feed_id, col(EntryRow.guid).in_(chunk)
                    )
                )
            )
    return known


def article_id_for(engine: Engine, url: str) -> int | None:
    """The id of an article already stored under this canonical URL."""
    with Session(engine) as session:
        return session.exec(select(ArticleRow.id).where(ArticleRow.url == url)).first()


def link_entry(engine: Engine, feed_id: int, entry: Entry, article_id: int, now: datetime) -> None:
    """Record an entry whose article was already processed (e.g. via another feed)."""
    with Session(engine) as session:
        session.execute(_entry_insert(engine, feed_id, entry, article_id, now))
        session.commit()


def story_candidates(
    engine: Engine, band_values: list[int], since: datetime
) -> list[tuple[int, bytes]]:
    """(story id, signature) of articles fetched since `since` that share a signature band.
    One statement of constant shape (an IN over the band values; the band number is checked
    here), so SQLAlchemy compiles it once."""
    if not band_values:
        return []
    wanted = set(enumerate(band_values))
    query = (
        select(StoryBandRow.band, StoryBandRow.value, ArticleRow.story_id, ArticleRow.signature)
        .join(ArticleRow, col(ArticleRow.id) == StoryBandRow.article_id)
        .where(
            col(StoryBandRow.value).in_(band_values),
            col(ArticleRow.fetched_at) >= since,
            col(ArticleRow.signature).is_not(None),
        )
    )
    found: dict[bytes, int] = {}  # one row per candidate article (its signature)
    with Session(engine) as session:
        for band, value, story, sig in session.exec(query):
            if (band, value) in wanted and story and sig:
                found.setdefault(sig, story)
    return [(story, sig) for sig, story in found.items()]


def store_article(
    engine: Engine,
    *,
    feed_id: int,
    entry: Entry,
    article: Article,
    matches: list[Match],
    routes: dict[str, list[Route]],
    now: datetime,
    story_id: int | None = None,
    band_values: list[int] | None = None,
) -> Stored:
    """Store the article, its entry, its hits and their pending alerts in ONE transaction.

    `routes` maps a profile name to where its alerts go (absent or empty: no alert); an alert
    for a digest is stored `queued` until the digest is due.
    `story_id` joins the article to a story found earlier (None: it starts its own); a
    profile already hit by another article of the story alerts no one again. Every insert
    ignores duplicates, so storing the same entry twice adds nothing.
    """
    with Session(engine) as session:
        session.execute(
            insert_ignoring_duplicates(engine, ArticleRow).values(
                url=article.url,
                link=entry.link or article.url,
                feed_id=feed_id,
                title=article.title,
                text=article.text,
                language=article.language,
                author=article.author,
                sitename=article.sitename,
                published_at=article.published_at,
                source=article.source,
                note=article.note,
                fetched_at=now,
                signature=article.signature,
            )
        )
        article_id = session.exec(select(ArticleRow.id).where(ArticleRow.url == article.url)).one()
        assert article_id is not None
        story_id = story_id or article_id
        session.execute(
            update(ArticleRow)
            .where(col(ArticleRow.id) == article_id, col(ArticleRow.story_id).is_(None))
            .values(story_id=story_id)
        )
        if band_values:  # one statement for all bands
            session.execute(
                insert_ignoring_duplicates(engine, StoryBandRow),
                [
                    {"article_id": article_id, "band": band, "value": value}
                    for band, value in enumerate(band_values)
                ],
            )
        session.execute(_entry_insert(engine, feed_id, entry, article_id, now))
        new_hits = new_alerts = 0
        for match in matches:
            hit_id = session.execute(
                insert_ignoring_duplicates(engine, HitRow)
                .values(
                    article_id=article_id,
                    profile=match.profile,
                    profile_version=match.profile_version,
                    matched_terms=match.matched_terms,
                    score=match.score,
                    snippet=match.snippet,
                    snippets=list(match.snippets),
                    created_at=now,
                )
                .returning(col(HitRow.id))
            ).scalar()
            if hit_id is None:
                continue  # this hit was stored before: its alerts were created then
            new_hits += 1
            if _story_already_hit(session, story_id, article_id, match.profile):
                continue  # one alert per story per profile: the first outlet's alert lists others
            for route in routes.get(match.profile, []):
                session.execute(
                    insert_ignoring_duplicates(engine, AlertRow).values(
                        hit_id=hit_id,
                        channel=route.channel,
                        status="queued" if route.digest else "pending",
                        digest=route.digest,
                        attempts=0,
                        created_at=now,
                        next_attempt_at=route.due or now,
                    )
                )
                new_alerts += 1
        session.commit()
    return Stored(article_id=article_id, new_hits=new_hits, new_alerts=new_alerts)


def _story_already_hit(session: Session, story_id: int, article_id: int, profile: str) -> bool:
    earlier = session.exec(
        select(HitRow.id)
        .join(ArticleRow, col(ArticleRow.id) == HitRow.article_id)
        .where(
            ArticleRow.story_id == story_id,
            col(ArticleRow.id) != article_id,
            HitRow.profile == profile,
        )
        .limit(1)
    ).first()
    return earlier is not None


def _entry_insert(
    engine: Engine, feed_id: int, entry: Entry, article_id: int, now: datetime
) -> Any:
    return insert_ignoring_duplicates(engine, EntryRow).values(
        feed_id=feed_id,
        guid=entry.guid,
        link=entry.link,
        title=entry.title,
        published_at=entry.published_at,
        article_id=article_id,
        seen_at=now,
        content_hash=entry.content_hash,
    )


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article as stored, with its feed's name: what a profile is re-run against."""

    id: int
    url: str
    title: str
    text: str
    language: str | None
    source: str


def stored_articles(engine: Engine, since: datetime | None) -> list[StoredArticle]:
    """Articles fetched at or after `since` (all without it), oldest first."""
    query = (
        select(ArticleRow, FeedRow)
        .join(FeedRow, col(FeedRow.id) == ArticleRow.feed_id)
        .order_by(col(ArticleRow.id))
    )
    if since is not None:
        query = query.where(col(ArticleRow.fetched_at) >= since)
    with Session(engine) as session:
        return [
            StoredArticle(
                id=article.id or 0,
                url=article.link,
                title=article.title,
                text=article.text,
                language=article.language,
                source=" | ".join(
                    s for s in (feed.name or feed.title or feed.url, article.sitename) if s
                ),
            )
            for article, feed in session.exec(query)
        ]


def hit_article_ids(engine: Engine, profile: str, article_ids: Iterable[int]) -> set[int]:
    """Which of these articles have a stored hit for `profile`."""
    ids = list(article_ids)
    found: set[int] = set()
    with Session(engine) as session:
        for start in range(0, len(ids), 500):
            found.update(
                session.exec(
                    select(HitRow.article_id).where(
                        HitRow.profile == profile,
                        col(HitRow.article_id).in_(ids[start : start + 500]),
                    )
                )
            )
    return found


def known_guids(engine: Engine, feed_id: int) -> set[str]:
    """Every entry identity stored for a feed (for pruning large documents)."""
    with Session(engine) as session:
        return set(session.exec(select(EntryRow.guid).where(EntryRow.feed_id == feed_id)))
