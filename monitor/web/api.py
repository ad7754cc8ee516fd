"""The read API, `/api/v1`: hits (filtered, paged by cursor, as JSON or CSV), one hit, one
article with its text and hits, one story, feeds and their health, profiles (one with its
latest hits), hits per day or week. Everything it returns is data, JSON-encoded or CSV with
formulas defused: nothing from a feed is ever markup here."""

from __future__ import annotations

import io
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi import Path as InPath
from sqlalchemy import Engine

from monitor.archive.export import write_hits_csv
from monitor.config.secrets import redact_url, redact_urls
from monitor.models import Hit
from monitor.profiles.files import current_profiles
from monitor.profiles.profile import Profile
from monitor.store.archive import (
    article_by_id,
    hit_total,
    hits_of_article,
    story_articles,
    story_profiles,
)
from monitor.store.feeds import feed_health
from monitor.store.hits import HitFilter, hit_by_id, page_of_hits
from monitor.store.timeline import hit_counts_by_bucket
from monitor.web.queries import ID_MAX, HitQuery, Hits, as_utc, encode_cursor, hits_page

LATEST = 10  # the newest hits shown with one profile
STATS_DAYS = 30  # the span of /stats/hits when `since` is not given
STATS_SPAN_MAX = timedelta(days=3 * 366)  # about three years of daily counts per request
CSV_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV"}
}

router = APIRouter(prefix="/api/v1")
AnId = Annotated[int, InPath(le=ID_MAX)]


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _page(request: Request, query: HitQuery) -> tuple[list[Hit], str | None]:
    """The hits of one page and the cursor of the next (None on the last page)."""
    page, following = hits_page(request, query.where, query.q, query.limit, query.after)
    return page, encode_cursor(following) if following else None


@router.get("/hits", summary="Stored hits, newest first, a page at a time")
def hits(request: Request, query: Hits) -> dict[str, Any]:
    page, next_cursor = _page(request, query)
    return {"items": [hit.record() for hit in page], "next_cursor": next_cursor}


@router.get(
    "/hits.csv",
    summary="Stored hits as CSV (the columns of `monitor hits --format csv`), a page at a time",
    description='The next page, when there is one, is named by a `Link: <…>; rel="next"` '
    "header. Cells that a spreadsheet would read as a formula start with a single quote.",
    response_class=Response,
    responses=CSV_ANSWER,
)
def hits_csv(request: Request, query: Hits) -> Response:
    page, next_cursor = _page(request, query)
    body = io.StringIO()
    write_hits_csv(body, page)
    headers = {"Content-Disposition": 'attachment; filename="hits.csv"'}
    if next_cursor:
        following = request.url.include_query_params(cursor=next_cursor)
        headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    return Response(body.getvalue(), media_type="text/csv", headers=headers)


@router.get("/hits/{hit_id}", summary="One stored hit")
def hit(request: Request, hit_id: AnId) -> dict[str, Any]:
    found = hit_by_id(_engine(request), hit_id)
    if found is None:
        raise HTTPException(404, f"no hit {hit_id}")
    return found.record()


@router.get("/articles/{article_id}", summary="One stored article: its text, metadata and hits")
def article(request: Request, article_id: AnId) -> dict[str, Any]:
    engine = _engine(request)
    found = article_by_id(engine, article_id)
    if found is None:
        raise HTTPException(404, f"no article {article_id}")
    return {
        **asdict(found),
        "published_at": _iso(found.published_at),
        "fetched_at": _iso(found.fetched_at),
        "hits": [hit.record() for hit in hits_of_article(engine, article_id)],
    }


@router.get(
    "/stories/{story_id}",
    summary="One story: its articles (near-duplicates), oldest first, and the profiles they hit",
)
def story(request: Request, story_id: AnId) -> dict[str, Any]:
    engine = _engine(request)
    members = story_articles(engine, story_id)
    if not members:
        raise HTTPException(404, f"no story {story_id}")
    return {
        "story_id": story_id,
        "articles": [
            {**asdict(member), "published_at": _iso(member.published_at)} for member in members
        ],
        "profiles": story_profiles(engine, story_id),
    }


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
    return {"items": [_profile(p) for p in current_profiles(_config_dir(request))]}


@router.get(
    "/profiles/{name}", summary="One profile with its number of stored hits and the newest ones"
)
def profile(request: Request, name: str) -> dict[str, Any]:
    found = next((p for p in current_profiles(_config_dir(request)) if p.name == name), None)
    if found is None:
        raise HTTPException(404, f"no profile {name!r}")
    engine = _engine(request)
    return {
        **_profile(found),
        "hits_total": hit_total(engine, name),
        "latest_hits": [hit.record() for hit in page_of_hits(engine, HitFilter(name), LATEST)],
    }


@router.get(
    "/stats/hits",
    summary="Hits per day or per week (ISO, from Monday), by the articles' publication date",
    description="Every bucket from the one holding `since` to the one holding `until` (UTC), "
    "zeros included, each counted whole; an undated article counts from when it was fetched. "
    f"At most {STATS_SPAN_MAX.days} days (about three years) per request.",
)
def hit_stats(
    request: Request,
    profile: Annotated[str | None, Query(description="only this profile (default: all)")] = None,
    bucket: Literal["day", "week"] = "day",
    since: Annotated[
        datetime | None, Query(description=f"default: {STATS_DAYS} days before until")
    ] = None,
    until: Annotated[datetime | None, Query(description="default: now")] = None,
) -> dict[str, Any]:
    try:
        end = as_utc(until) if until else datetime.now(UTC)
        start = as_utc(since) if since else end - timedelta(days=STATS_DAYS)
        if start > end:
            raise HTTPException(400, "since: later than until; give a since before the until")
        if end - start > STATS_SPAN_MAX:
            raise HTTPException(
                400,
                f"since to until spans {(end - start).days} days; one request covers at most "
                f"{STATS_SPAN_MAX.days} (about three years): ask for the rest in another",
            )
        counts = hit_counts_by_bucket(
            _engine(request), profile=profile, bucket=bucket, since=start, until=end
        )
    except OverflowError:  # a bucket reaching before year 1 or after 9999
        raise HTTPException(400, "since, until: too close to the years 1 or 9999") from None
    return {
        "profile": profile,
        "bucket": bucket,
        "since": start.date().isoformat(),
        "until": end.date().isoformat(),
        "counts": [{"start": day.isoformat(), "count": count} for day, count in counts],
    }


def _config_dir(request: Request) -> Path:
    config_dir: Path = request.app.state.config_dir
    return config_dir


def _profile(p: Profile) -> dict[str, Any]:
    return {
        "name": p.name,
        "description": p.description,
        "tags": list(p.tags),
        "query": p.query_text,
        "alert": p.alert,
        "enabled": p.enabled,
        "version": p.version,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
