"""A backtest: run one profile as it is written now over the stored articles and compare with
the hits stored for it. The search index narrows the articles to those that may match (a
profile the index cannot narrow is run over every article); the matcher decides."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from monitor.profiles.candidates import needed
from monitor.profiles.matcher import Matcher
from monitor.profiles.profile import Doc, Profile
from monitor.store.articles import hit_article_ids_since
from monitor.store.engine import open_engine
from monitor.store.search import (
    ArticleFilter,
    Candidate,
    articles_by_id,
    count_articles,
    matching_ids,
    usable,
)

CHUNK = 500  # articles read (with their text) and matched at a time
PARALLEL_FROM = 5000  # fewer candidates are matched here: starting processes costs ~1 s


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
    *,
    workers: int | None = None,
    parallel_from: int = PARALLEL_FROM,
    chunk: int = CHUNK,
) -> Backtest:
    """Match `profile` over the articles fetched since `since` (all without it). The
    candidates are matched in `workers` processes (default: one per CPU) when there are
    enough of them to pay for starting the processes; each reads its own share."""
    where = ArticleFilter(fetched_since=since)
    need = usable(needed(profile.query))
    ids = matching_ids(engine, need, where)
    chunks = [ids[start : start + chunk] for start in range(0, len(ids), chunk)]
    processes = min(workers or os.cpu_count() or 1, len(chunks))
    matching: set[int] = set()
    if processes > 1 and len(ids) >= parallel_from:
        url = engine.url.render_as_string(hide_password=False)
        context = multiprocessing.get_context("spawn")  # no inherited connections or locks
        with ProcessPoolExecutor(processes, mp_context=context) as pool:
            jobs = [pool.submit(_matching_in, url, profile, part) for part in chunks]
            for job, part in zip(jobs, chunks, strict=True):
                matching.update(job.result())
                if advance is not None:
                    advance(len(part))
    else:
        for part in chunks:
            matching.update(matching_in(engine, profile, part))
            if advance is not None:
                advance(len(part))
    had = hit_article_ids_since(engine, profile.name, since)
    return Backtest(
        profile=profile.name,
        articles=count_articles(engine, where),
        candidates=len(ids),
        scan=need is None,
        kept=len(had & matching),
        added=articles_by_id(engine, sorted(matching - had)),
        removed=articles_by_id(engine, sorted(had - matching)),
    )


def matching_in(engine: Engine, profile: Profile, ids: list[int]) -> list[int]:
    """Which of these articles `profile` matches."""
    matcher = Matcher([profile])
    return [
        article.id
        for article in articles_by_id(engine, ids)
        if matcher.match(
            Doc(article.title, article.text, article.url, article.source, article.language)
        )
    ]


_ENGINES: dict[str, Engine] = {}  # in a worker process: one engine per database, kept


def _matching_in(url: str, profile: Profile, ids: list[int]) -> list[int]:
    """matching_in, run in a worker process on its own connection."""
    if url not in _ENGINES:
        _ENGINES[url] = open_engine(url, create=False)
    return matching_in(_ENGINES[url], profile, ids)
