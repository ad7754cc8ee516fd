"""The read API, `/api/v1`: hits (filtered, paged by cursor), one hit, feeds and their health,
profiles. Everything it returns is data, JSON-encoded: nothing from a feed is ever markup here."""

from __future__ import annotations

import base64
import binascii
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from sqlalchemy import Engine

from monitor.config.secrets import redact_url, redact_urls
from monitor.models import Hit
from monitor.profiles.files import load_profiles
from monitor.store.feeds import feed_health
from monitor.store.hits import HitFilter, hit_by_id, page_of_hits

PAGE = 50
PAGE_MAX = 500

router = APIRouter(prefix="/api/v1")


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


@router.get("/hits", summary="Stored hits, newest first, a page at a time")
def hits(
    request: Request,
    profile: str | None = None,
    feed: Annotated[str | None, Query(description="the feed's name, title or URL")] = None,
    language: str | None = None,
    since: Annotated[datetime | None, Query(description="published at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="published before (ISO 8601)")] = None,
    story: int | None = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = PAGE,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> dict[str, Any]:
    where = HitFilter(profile, feed, language, since, until, story)
    found = page_of_hits(_engine(request), where, limit + 1, _after(cursor))
    page = found[:limit]
    more = len(found) > limit
    return {
        "items": [hit.record() for hit in page],
        "next_cursor": _cursor(page[-1]) if more and page else None,
    }


@router.get("/hits/{hit_id}", summary="One stored hit")
def hit(request: Request, hit_id: int) -> dict[str, Any]:
    found = hit_by_id(_engine(request), hit_id)
    if found is None:
        raise HTTPException(404, f"no hit {hit_id}")
    return found.record()


@router.get("/feeds", summary="Every feed with its health")
def feeds(request: Request) -> dict[str, Any]:
    return {
        "items": [
            {
                **asdict(health),
                "url": redact_url(health.url),
                "error": redact_urls(health.error) if health.error else None,
                "recent_published": [_iso(moment) for moment in health.recent_published],
            }
            for health in feed_health(_engine(request))
        ]
    }


@router.get("/profiles", summary="The profiles: name, description, tags, query")
def profiles(request: Request) -> dict[str, Any]:
    config_dir: Path = request.app.state.config_dir
    return {
        "items": [
            {
                "name": p.name,
                "description": p.description,
                "tags": list(p.tags),
                "query": p.query_text,
                "alert": p.alert,
                "enabled": p.enabled,
                "version": p.version,
            }
            for p in load_profiles(config_dir)
        ]
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _cursor(last: Hit) -> str:
    """An opaque cursor: where the next page starts (after this hit's stored time and id)."""
    raw = f"{last.created_at.isoformat()}|{last.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stored, _, hit_id = raw.partition("|")
        return datetime.fromisoformat(stored), int(hit_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise HTTPException(
            400, "cursor: not a cursor this API gave (start again without one)"
        ) from None
