"""`/api/v1/search`: stored articles that a query in the profile language matches, newest
stored first, a page at a time (see monitor.archive.search for how the index and the matcher
share the work, and when a request is a bounded scan)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from sqlalchemy import Engine

from monitor.archive.search import search
from monitor.store.search import ArticleFilter
from monitor.web.queries import PAGE, PAGE_MAX, as_utc, parsed

router = APIRouter(prefix="/api/v1")


@router.get(
    "/search",
    summary="Stored articles a query matches, newest stored first",
)
def search_articles(
    request: Request,
    q: Annotated[str, Query(description="a query in the profile language", max_length=4000)],
    feed: Annotated[str | None, Query(description="the feed's name, title or URL")] = None,
    language: Annotated[str | None, Query(description="zh also finds zh-Hant")] = None,
    since: Annotated[datetime | None, Query(description="published at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="published before (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = PAGE,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> dict[str, Any]:
    """`items` as `monitor search --format json` prints them; `scan` is true when the index
    could not narrow the query (a term shorter than three characters, a regular expression
    alone) and the articles were read one by one, `examined` how many this request matched,
    `complete` false when the request stopped at its bound before filling the page (follow
    `next_cursor` to go on)."""
    query = parsed(request, q)
    if query is None:
        raise HTTPException(400, "q: the query is empty")
    engine: Engine = request.app.state.engine
    where = ArticleFilter(
        feed=feed, language=language, since=since and as_utc(since), until=until and as_utc(until)
    )
    page = search(engine, query, where, limit=limit, before=_before(cursor))
    return {
        "items": [found.record() for found in page.items],
        "next_cursor": _cursor(page.following) if page.following is not None else None,
        "scan": page.scan,
        "examined": page.examined,
        "complete": page.complete,
    }


def _cursor(before: int) -> str:
    return base64.urlsafe_b64encode(f"a{before}".encode()).decode().rstrip("=")


def _before(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if raw.startswith("a"):
            return int(raw[1:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise HTTPException(400, "cursor: not a cursor this API gave (start again without one)")
