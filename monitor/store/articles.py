"""Entries, articles and hits: what is already known, and storing a processed entry at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, bindparam, update
from sqlmodel import Session, col, select

from monitor.models import Article, Entry, Match, Route, StoredEntry
from monitor.store import evidence, warcfiles
from monitor.store.engine import insert_ignoring_duplicates
from monitor.store.search import add_to_index, indexed_text
from monitor.store.tables import AlertRow, ArticleRow, EntryRow, HitRow, StoryBandRow


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
    with engine.connect() as conn:
        found: int | None = conn.execute(
            _statements(engine.dialect.name).article_id, {"url": url}
        ).scalar()
        return found


def link_entry(engine: Engine, feed_id: int, entry: Entry, article_id: int, now: datetime) -> None:
    """Record an entry whose article was already processed (e.g. via another feed)."""
    with engine.begin() as conn:
        conn.execute(
            _statements(engine.dialect.name).entry, _entry_values(feed_id, entry, article_id, now)
        )


def story_candidates(
    engine: Engine, band_values: list[int], since: datetime
) -> list[tuple[int, bytes]]:
    """(story id, signature) of articles fetched since `since` that share a signature band.
    One statement of constant shape (an IN over the band values; the band number is checked
    here), so SQLAlchemy compiles it once."""
    if not band_values:
        return []
    wanted = set(enumerate(band_values))
    found: dict[bytes, int] = {}  # one row per candidate article (its signature)
    with engine.connect() as conn:
        rows = conn.execute(
            _statements(engine.dialect.name).candidates, {"values": band_values, "since": since}
        )
        for band, value, story, sig in rows:
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
    keeping: evidence.Keeping | None = None,
) -> StoredEntry:
    """Store the article, its entry, its hits and their pending alerts in ONE transaction.

    `routes` maps a profile name to where its alerts go (absent or empty: no alert); an alert
    for a digest is stored `queued` until the digest is due.
    `story_id` joins the article to a story found earlier (None: it starts its own); a
    profile already hit by another article of the story alerts no one again. Every insert
    ignores duplicates, so storing the same entry twice adds nothing.

    With `keeping`, an article with hits keeps its page as fetched (its capture): the
    body in its WARC file first, the version's row in the same transaction (store.evidence).

    Core statements built once per dialect, values passed as parameters: the ORM's
    per-statement work (cache keys over embedded values) cost more than the database.
    """
    sql = _statements(engine.dialect.name)
    # the page's body first (a file kept for an article that then fails to store is
    # harmless: it is named by its body)
    kept = None
    if keeping is not None and article.capture is not None and matches:
        kept = warcfiles.keep_or_say(keeping.folder, article.capture)
    body = article.search_text or indexed_text(article.title, article.text)
    with engine.begin() as conn:
        article_id = conn.execute(
            sql.article,
            {
                "url": article.url,
                "link": entry.link or article.url,
                "feed_id": feed_id,
                "title": article.title,
                "text": article.text,
                "language": article.language,
                "author": article.author,
                "sitename": article.sitename,
                "published_at": article.published_at,
                "source": article.source,
                "note": article.note,
                "fetched_at": now,
                "signature": article.signature,
                "story_id": story_id,
            },
        ).scalar()
        inserted = article_id is not None
        published = article.published_at or now  # what the hits are dated by
        if article_id is None:  # stored before: keep its row
            known = conn.execute(sql.article_id, {"url": article.url}).one()
            article_id, published = known.id, known.published_at or known.fetched_at
        else:
            add_to_index(conn, [(article_id, body)])
        new_story = inserted and story_id is None  # no other article can be in it yet
        if not (inserted and story_id):  # a story of its own, or an older row without one
            conn.execute(sql.fill_story, {"row": article_id, "story": story_id or article_id})
        story_id = story_id or article_id
        if band_values:  # one statement for all bands
            conn.execute(
                sql.bands,
                [
                    {"article_id": article_id, "band": band, "value": value}
                    for band, value in enumerate(band_values)
                ],
            )
        conn.execute(sql.entry, _entry_values(feed_id, entry, article_id, now))
        hit_ids: list[tuple[Match, int]] = []
        for match in matches:
            hit_id = conn.execute(
                sql.hit,
                {
                    "article_id": article_id,
                    "profile": match.profile,
                    "profile_version": match.profile_version,
                    "matched_terms": match.matched_terms,
                    "score": match.score,
                    "snippet": match.snippet,
                    "snippets": list(match.snippets),
                    "created_at": now,
                    "published": published,
                },
            ).scalar()
            if hit_id is not None:  # None: stored before, its alerts were created then
                hit_ids.append((match, hit_id))
        # one alert per story per profile: the first outlet's alert lists the others; a
        # story this article has just started has no other article to ask about
        earlier: set[str] = set()
        if hit_ids and not new_story:
            rows = conn.execute(sql.story_profiles, {"story": story_id, "article": article_id})
            earlier = set(rows.scalars())
        alerts = [
            {
                "hit_id": hit_id,
                "channel": route.channel,
                "status": "queued" if route.digest else "pending",
                "digest": route.digest,
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": route.due or now,
            }
            for match, hit_id in hit_ids
            if match.profile not in earlier
            for route in routes.get(match.profile, [])
        ]
        if alerts:
            conn.execute(sql.alert, alerts)
        if kept is not None and keeping and inserted and article.capture is not None:
            evidence.add_original(conn, keeping, article_id, article.capture, kept, article.text)
    return StoredEntry(article_id=article_id, new_hits=len(hit_ids), new_alerts=len(alerts))


@dataclass(frozen=True, slots=True)
class _Statements:
    """The statements store_article runs, compiled once per dialect (SQLAlchemy caches the
    compiled form per statement object)."""

    article: Any
    article_id: Any
    fill_story: Any
    bands: Any
    entry: Any
    hit: Any
    story_profiles: Any
    candidates: Any
    alert: Any


@lru_cache(maxsize=4)
def _statements(dialect: str) -> _Statements:
    article, hit = ArticleRow.__table__, HitRow.__table__  # type: ignore[attr-defined]
    band = StoryBandRow.__table__  # type: ignore[attr-defined]
    return _Statements(
        article=insert_ignoring_duplicates(dialect, article).returning(article.c.id),
        article_id=select(article.c.id, article.c.published_at, article.c.fetched_at).where(
            article.c.url == bindparam("url")
        ),
        fill_story=update(article)
        .where(article.c.id == bindparam("row"), article.c.story_id.is_(None))
        .values(story_id=bindparam("story")),
        bands=insert_ignoring_duplicates(dialect, band),
        entry=insert_ignoring_duplicates(dialect, EntryRow.__table__),  # type: ignore[attr-defined]
        hit=insert_ignoring_duplicates(dialect, hit).returning(hit.c.id),
        story_profiles=select(hit.c.profile)
        .distinct()
        .join(article, article.c.id == hit.c.article_id)
        .where(article.c.story_id == bindparam("story"), article.c.id != bindparam("article")),
        alert=insert_ignoring_duplicates(dialect, AlertRow.__table__),  # type: ignore[attr-defined]
        candidates=select(band.c.band, band.c.value, article.c.story_id, article.c.signature)
        .join(article, article.c.id == band.c.article_id)
        .where(
            band.c.value.in_(bindparam("values", expanding=True)),
            article.c.fetched_at >= bindparam("since"),
            article.c.signature.is_not(None),
        ),
    )


def _entry_values(feed_id: int, entry: Entry, article_id: int, now: datetime) -> dict[str, Any]:
    return {
        "feed_id": feed_id,
        "guid": entry.guid,
        "link": entry.link,
        "title": entry.title,
        "published_at": entry.published_at,
        "article_id": article_id,
        "seen_at": now,
        "content_hash": entry.content_hash,
    }


def hit_article_ids_since(engine: Engine, profile: str, since: datetime | None) -> set[int]:
    """The articles fetched since `since` (all without it) with text and a hit for `profile`."""
    query = (
        select(HitRow.article_id)
        .join(ArticleRow, col(ArticleRow.id) == HitRow.article_id)
        .where(HitRow.profile == profile, col(ArticleRow.text) != "")
    )
    if since is not None:
        query = query.where(col(ArticleRow.fetched_at) >= since)
    with Session(engine) as session:
        return set(session.exec(query))


def known_guids(engine: Engine, feed_id: int) -> set[str]:
    """Every entry identity stored for a feed (for pruning large documents)."""
    with Session(engine) as session:
        return set(session.exec(select(EntryRow.guid).where(EntryRow.feed_id == feed_id)))
