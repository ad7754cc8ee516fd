"""A backtest: run one profile as it is written now over the stored articles and compare with
the hits stored for it. The search index narrows the articles to those that may match (a
profile the index cannot narrow is run over every article); the matcher decides."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from monitor.profiles.candidates import needed
from monitor.profiles.matcher import Matcher
from monitor.profiles.profile import Doc, Profile
from monitor.store.articles import hit_article_ids_since
from monitor.store.search import (
    ArticleFilter,
    Candidate,
    articles_by_id,
    count_articles,
    matching_ids,
    usable,
)

CHUNK = 500  # articles read (with their text) at a time


@dataclass(frozen=True, slots=True)
class Backtest:
    """What the profile matches now against what was stored for it."""

    profile: str
    articles: int  # stored articles (with text) fetched since the start
    candidates: int  # of those, the ones the index could not rule out
    scan: bool  # the index could not narrow the profile: every article was matched
    kept: int
    added: list[Candidate]
    removed: list[Candidate]


def backtest(
    engine: Engine,
    profile: Profile,
    since: datetime | None,
    advance: Callable[[int], None] | None = None,
) -> Backtest:
    """Match `profile` over the articles fetched since `since` (all without it)."""
    where = ArticleFilter(fetched_since=since)
    need = usable(needed(profile.query))
    ids = matching_ids(engine, need, where)
    matcher = Matcher([profile])
    matching: dict[int, Candidate] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = articles_by_id(engine, ids[start : start + CHUNK])
        for article in chunk:
            doc = Doc(article.title, article.text, article.url, article.source, article.language)
            if matcher.match(doc):
                matching[article.id] = article
        if advance is not None:
            advance(len(ids[start : start + CHUNK]))
    had = hit_article_ids_since(engine, profile.name, since)
    removed = articles_by_id(engine, sorted(had - matching.keys()))
    return Backtest(
        profile=profile.name,
        articles=count_articles(engine, where),
        candidates=len(ids),
        scan=need is None,
        kept=len(had & matching.keys()),
        added=[matching[i] for i in sorted(matching.keys() - had)],
        removed=removed,
    )
