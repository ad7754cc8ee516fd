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

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

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
class SearchPage:
    """One page of results. `next_before`: pass it back as `before` for the next page (None:
    nothing older is left). `scan`: the index could not narrow the query; `examined`: how many
    articles this request matched; `complete`: the page was not cut short by the bound."""

    items: list[Found]
    next_before: int | None
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
) -> SearchPage:
    """The newest `limit` stored articles below id `before` that match `query`; at most
    `confirm_limit` candidates (`scan_limit` articles in a scan) are matched per call."""
    need = usable(needed(query))
    scan = need is None
    bound = scan_limit if scan else confirm_limit
    matcher = Matcher([search_profile(query)])
    items: list[Found] = []
    examined = 0
    cursor = before
    while True:
        want = min(BATCH, bound - examined)
        batch = candidates(engine, need, where, before=cursor, limit=want)
        for candidate in batch:
            examined += 1
            cursor = candidate.id
            found = confirm(matcher, candidate)
            if found is not None:
                items.append(found)
                if len(items) == limit:
                    return SearchPage(items, cursor, scan, examined)
        if len(batch) < want:
            return SearchPage(items, None, scan, examined)  # nothing older is left
        if examined >= bound:
            return SearchPage(items, cursor, scan, examined, complete=False)


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


@dataclass(frozen=True, slots=True)
class HitsPage:
    """A page of stored hits whose articles match a search, with the same bounds as
    SearchPage; `next_after` is the (stored at, id) of the last hit looked at."""

    items: list[Hit]
    next_after: tuple[datetime, int] | None
    scan: bool
    examined: int
    complete: bool = True


def search_hits(
    engine: Engine,
    query: Node,
    where: HitFilter,
    *,
    limit: int,
    after: tuple[datetime, int] | None = None,
    confirm_limit: int = CONFIRM_LIMIT,
) -> HitsPage:
    """The newest stored hits kept by `where` whose article matches `query` (the `q` of the
    read API, the /hits page and the Atom feeds): the index narrows, the matcher confirms."""
    need = usable(needed(query))
    narrowed = replace(where, text=need)
    matcher = Matcher([search_profile(query)])
    items: list[Hit] = []
    examined = 0
    cursor = after
    while True:
        want = min(BATCH, confirm_limit - examined)
        batch = page_of_hits(engine, narrowed, want, cursor)
        texts = {a.id: a for a in articles_by_id(engine, sorted({h.article_id for h in batch}))}
        for hit in batch:
            examined += 1
            cursor = (hit.created_at, hit.id)
            article = texts.get(hit.article_id)
            if article is not None and confirm(matcher, article) is not None:
                items.append(hit)
                if len(items) == limit:
                    return HitsPage(items, cursor, need is None, examined)
        if len(batch) < want:
            return HitsPage(items, None, need is None, examined)
        if examined >= confirm_limit:
            return HitsPage(items, cursor, need is None, examined, complete=False)
