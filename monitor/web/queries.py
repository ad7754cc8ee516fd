"""The `q` of the hit lists (read API, CSV, Atom, the /hits page): a query in the profile
language over the hits' articles, compiled with the configuration's concepts; a query that
does not parse is a 400 saying where."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request
from sqlalchemy import Engine

from monitor.archive.search import compile_query, search_hits
from monitor.models import Hit
from monitor.profiles.files import current_concepts
from monitor.profiles.nodes import Node
from monitor.profiles.querysyntax import QueryError
from monitor.store.hits import HitFilter, page_of_hits

ID_MAX = 2**63 - 1  # the largest id a database stores: a larger one is a bad request
PAGE = 50  # hits per page unless `limit` says otherwise
PAGE_MAX = 500


def encode_cursor(after: tuple[datetime, int]) -> str:
    """An opaque cursor: the next page starts after this (stored at, hit id)."""
    stored, hit_id = after
    return base64.urlsafe_b64encode(f"{stored.isoformat()}|{hit_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """The (stored at, hit id) of a cursor this application gave; a 400 for anything else."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stored, _, number = raw.partition("|")
        moment, hit_id = datetime.fromisoformat(stored), int(number)
        if not 0 <= hit_id <= ID_MAX:
            raise ValueError(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise HTTPException(
            400, "cursor: not a cursor this API gave (start again without one)"
        ) from None
    return as_utc(moment), hit_id


def as_utc(moment: datetime) -> datetime:
    """A moment from a request in UTC; one written without an offset is taken as UTC."""
    try:
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is in no year UTC knows
        raise HTTPException(400, f"{moment.isoformat()}: out of the range of dates") from None


class BadQuery(Exception):
    """A `q` that does not parse: the message, line and column for the error answer."""

    def __init__(self, error: QueryError, parameter: str = "q") -> None:
        super().__init__(f"{parameter}: {error.message}")
        self.message = f"{parameter}: {error.message}"
        self.line = error.line
        self.column = error.column


def parsed(request: Request, q: str | None) -> Node | None:
    """`q` as a query tree (None when absent or blank); BadQuery when it does not parse."""
    if q is None or not q.strip():
        return None
    config_dir: Path = request.app.state.config_dir
    try:
        return compile_query(q, current_concepts(config_dir))
    except QueryError as exc:
        raise BadQuery(exc) from None


def hits_page(
    request: Request,
    where: HitFilter,
    q: str | None,
    limit: int,
    after: tuple[datetime, int] | None = None,
) -> tuple[list[Hit], tuple[datetime, int] | None]:
    """A page of hits, newest stored first, and where the next page starts (None: no more).
    With `q`, only hits whose article matches it (a search page may stop at its bound before
    it is full: its cursor goes on)."""
    engine: Engine = request.app.state.engine
    query = parsed(request, q)
    if query is None:
        found = page_of_hits(engine, where, limit + 1, after)
        page = found[:limit]
        more = len(found) > limit and page
        return page, ((page[-1].created_at, page[-1].id) if more else None)
    result = search_hits(engine, query, where, limit=limit, after=after)
    return result.items, result.following


@dataclass(frozen=True, slots=True)
class HitQuery:
    """A page of hits asked for: the filter, the page size and where the page starts."""

    where: HitFilter
    limit: int
    after: tuple[datetime, int] | None
    q: str | None = None


def hit_query(
    profile: str | None = None,
    feed: Annotated[str | None, Query(description="the feed's name, title or URL")] = None,
    language: str | None = None,
    since: Annotated[datetime | None, Query(description="published at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="published before (ISO 8601)")] = None,
    story: Annotated[int | None, Query(le=ID_MAX)] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=4000,
            description="only hits whose article matches this query "
            "(the profile language, as /api/v1/search)",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = PAGE,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> HitQuery:
    """The parameters every list of hits takes (/api/v1/hits, hits.csv, the Atom feeds); a
    moment without offset is UTC."""
    where = HitFilter(
        profile, feed, language, since and as_utc(since), until and as_utc(until), story
    )
    return HitQuery(where, limit, decode_cursor(cursor), q)


Hits = Annotated[HitQuery, Depends(hit_query)]
