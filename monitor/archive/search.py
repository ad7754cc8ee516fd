"""Search stored articles with a query in the profile language: the index proposes, the
matcher decides.

The query's text requirements (profiles.candidates) go to the search index, which returns
every article that may match, newest stored first; each is then matched exactly as a profile
would match it, so a search finds what a profile with that query would have found. When the
index cannot narrow the query (a one-character term, a regular expression alone, metadata
only), the articles themselves are scanned, newest first, and a request looks at no more than
`SCAN_LIMIT` of them: the page says so, and its cursor continues the scan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine

from monitor.models import Hit
from monitor.profiles.candidates import needed
from monitor.profiles.matcher import Matcher
from monitor.profiles.nodes import Node
from monitor.profiles.profile import Doc, Profile
from monitor.profiles.query import parse_query
from monitor.store.hits import HitFilter, page_of_hits
from monitor.store.search import ArticleFilter, Candidate, articles_by_id, candidates, usable

BATCH = 200  # candidates read (with their text) per query to the database
CONFIRM_LIMIT = 5000  # candidates matched per request before it answers with what it has
SCAN_LIMIT = 5000  # articles matched per request when the index cannot narrow the query

T = TypeVar("T")  # a result: a Found article, a Hit
C = TypeVar("C")  # where a page starts: an article id, a hit's (stored at, id)


@dataclass(frozen=True, slots=True)
class Found:
    """An article a search found, with the snippets that show why."""

    article_id: int
    url: str
    title: str
    feed: str
    published_at: datetime | None
    language: str | None
    snippets: list[str]
    matched_terms: list[str]

    def record(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "url": self.url,
            "title": self.title,
            "feed": self.feed,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "language": self.language,
            "snippets": self.snippets,
            "matched_terms": self.matched_terms,
        }


@dataclass(frozen=True, slots=True)
class Page(Generic[T, C]):
    """One page of results. `following`: pass it back to get the next page (None: nothing
    older is left). `scan`: the index could not narrow the query; `examined`: how many
    articles this request matched; `complete`: the page was not cut short by the bound."""

    items: list[T]
    following: C | None
    scan: bool
    examined: int
    complete: bool = True


def compile_query(text: str, concepts: Mapping[str, tuple[str, ...]] | None = None) -> Node:
    """The query tree of a search (QueryError says where a query is wrong)."""
    return parse_query(text, concepts=concepts or {}, allow_regex=True)


def search_profile(query: Node, text: str = "") -> Profile:
    """A search as a profile: its query, no minimum score, any language and source."""
    return Profile(name="search", version="", query=query, query_text=text, min_score=0.0)


def search(
    engine: Engine,
    query: Node,
    where: ArticleFilter,
    *,
    limit: int = 50,
    before: int | None = None,
    scan_limit: int = SCAN_LIMIT,
    confirm_limit: int = CONFIRM_LIMIT,
) -> Page[Found, int]:
    """The newest `limit` stored articles below id `before` that match `query`; at most
    `confirm_limit` candidates (`scan_limit` articles in a scan) are matched per call.
    `following` is the id to pass as `before` for the next page."""
    need = usable(needed(query))
    matcher = Matcher([search_profile(query)])

    def batch(cursor: int | None, want: int) -> list[tuple[int, Found | None]]:
        found = candidates(engine, need, where, before=cursor, limit=want)
        return [(candidate.id, confirm(matcher, candidate)) for candidate in found]

    bound = scan_limit if need is None else confirm_limit
    return _walk(batch, before, limit, bound, scan=need is None)


def _walk(
    batch: Callable[[C | None, int], list[tuple[C, T | None]]],
    start: C | None,
    limit: int,
    bound: int,
    *,
    scan: bool,
) -> Page[T, C]:
    """Ask `batch` for up to BATCH (position, result or None) pairs after a position, newest
    first, until `limit` results are found, nothing is left or `bound` pairs were looked at."""
    items: list[T] = []
    examined = 0
    cursor = start
    while True:
        want = min(BATCH, bound - examined)
        pairs = batch(cursor, want)
        for position, result in pairs:
            examined += 1
            cursor = position
            if result is not None:
                items.append(result)
                if len(items) == limit:
                    return Page(items, cursor, scan, examined)
        if len(pairs) < want:
            return Page(items, None, scan, examined)  # nothing older is left
        if examined >= bound:
            return Page(items, cursor, scan, examined, complete=False)


def confirm(matcher: Matcher, candidate: Candidate) -> Found | None:
    """The candidate as a result when the matcher agrees, else None."""
    doc = Doc(candidate.title, candidate.text, candidate.url, candidate.source, candidate.language)
    matches = matcher.match(doc)
    if not matches:
        return None
    match = matches[0]
    return Found(
        article_id=candidate.id,
        url=candidate.url,
        title=candidate.title,
        feed=candidate.feed,
        published_at=candidate.published_at or candidate.fetched_at,
        language=candidate.language,
        snippets=list(match.snippets),
        matched_terms=list(match.matched_terms),
    )


def search_hits(
    engine: Engine,
    query: Node,
    where: HitFilter,
    *,
    limit: int,
    after: tuple[datetime, int] | None = None,
    confirm_limit: int = CONFIRM_LIMIT,
) -> Page[Hit, tuple[datetime, int]]:
    """The newest stored hits kept by `where` whose article matches `query` (the `q` of the
    read API, the /hits page and the Atom feeds): the index narrows, the matcher confirms.
    `following` is the (stored at, id) of the last hit looked at."""
    need = usable(needed(query))
    narrowed = replace(where, text=need)
    matcher = Matcher([search_profile(query)])

    def batch(
        cursor: tuple[datetime, int] | None, want: int
    ) -> list[tuple[tuple[datetime, int], Hit | None]]:
        hits = page_of_hits(engine, narrowed, want, cursor)
        texts = {a.id: a for a in articles_by_id(engine, sorted({h.article_id for h in hits}))}
        return [
            (
                (hit.created_at, hit.id),
                hit if _matches(matcher, texts.get(hit.article_id)) else None,
            )
            for hit in hits
        ]

    return _walk(batch, after, limit, confirm_limit, scan=need is None)


def _matches(matcher: Matcher, article: Candidate | None) -> bool:
    return article is not None and confirm(matcher, article) is not None
