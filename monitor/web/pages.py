"""The server-rendered pages: overview, hits, stories, profiles, feeds, and the sign-in form.
Readable with JavaScript off; every value from a feed reaches them as text (monitor.web.render)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import Engine

from monitor.config.secrets import redact_url, redact_urls
from monitor.profiles.files import current_profiles
from monitor.profiles.profile import Profile
from monitor.store.archive import hit_total, story_articles, story_profiles
from monitor.store.feeds import feed_health
from monitor.store.hits import HitFilter, page_of_hits
from monitor.store.stats import counts
from monitor.store.timeline import hit_counts_by_bucket
from monitor.web.chart import BarChart, bar_chart
from monitor.web.feedback import feedback_forms, profile_feedback
from monitor.web.queries import ID_MAX, PAGE, BadQuery, decode_cursor, encode_cursor, hits_page
from monitor.web.render import page

LATEST = 20  # hits on a profile's page
OVERVIEW_DAYS, PROFILE_DAYS = 14, 30

router = APIRouter(include_in_schema=False)


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _profiles(request: Request) -> list[Profile]:
    config_dir: Path = request.app.state.config_dir
    return current_profiles(config_dir)


def _per_day(engine: Engine, profile: str, days: int, now: datetime) -> list[tuple[date, int]]:
    """Hits of `profile` on each of the last `days` UTC days, today included."""
    since = now - timedelta(days=days - 1)
    return hit_counts_by_bucket(engine, profile=profile, bucket="day", since=since, until=now)


@dataclass(frozen=True, slots=True)
class _ProfileRow:
    name: str
    description: str
    today: int
    week: int
    chart: BarChart


@router.get("/", response_class=HTMLResponse)
def overview(request: Request) -> HTMLResponse:
    engine, now = _engine(request), datetime.now(UTC)
    rows = []
    for profile in _profiles(request):
        days = _per_day(engine, profile.name, OVERVIEW_DAYS, now)
        what = f"Hits of {profile.name}"
        rows.append(
            _ProfileRow(
                name=profile.name,
                description=profile.description,
                today=days[-1][1],
                week=sum(count for _, count in days[-7:]),
                chart=bar_chart(days, what=what, width=320, height=90),
            )
        )
    failing = [feed for feed in _feeds(engine) if feed.status in ("failing", "gone")]
    backlog = counts(engine).backlog
    return page(request, "overview.html", profiles=rows, failing=failing, backlog=backlog)


@router.get("/hits", response_class=HTMLResponse)
def hits(
    request: Request,
    profile: str = "",
    feed: str = "",
    language: str = "",
    since: str = "",
    until: str = "",
    q: str = "",
    cursor: str = "",
    changed: str = "",
    changed_since: str = "",
) -> HTMLResponse:
    chosen = {"q": q, "profile": profile, "feed": feed, "language": language}
    chosen |= {"since": since, "until": until}
    chosen |= {"changed": changed if changed in CHANGED else "", "changed_since": changed_since}
    context: dict[str, Any] = {
        "forms": feedback_forms(request),
        "chosen": chosen,
        "profile_names": [p.name for p in _profiles(request)],
        "feed_names": sorted({f.label for f in _feeds(_engine(request))}),
    }
    try:
        start, end = _day(since, "from"), _day(until, "to", later=1)  # to: the whole day
        changed_from = _day(changed_since, "changed since")
    except ValueError as bad:
        return page(request, "hits.html", 400, problem=str(bad), **context)
    where = HitFilter(
        profile=profile or None,
        feed=feed or None,
        language=language or None,
        since=start,
        until=end,
        changed=chosen["changed"] or None,
        changed_since=changed_from if chosen["changed"] else None,
    )
    try:
        shown, following = hits_page(request, where, q, PAGE, decode_cursor(cursor))
    except BadQuery as bad:
        problem = f"{bad.message} (line {bad.line}, column {bad.column})"
        return page(request, "hits.html", 400, problem=problem, **context)
    filters = {key: value for key, value in chosen.items() if value}
    older = None
    if following is not None:
        older = "/hits?" + urlencode({**filters, "cursor": encode_cursor(following)})
    first_page = ("/hits?" + urlencode(filters)) if cursor else None
    context |= {"problem": None, "hits": shown, "older": older, "first_page": first_page}
    return page(request, "hits.html", **context)


CHANGED = ("edited", "removed")  # what a re-check found of a hit's article (evidence)


def _day(value: str, which: str, later: int = 0) -> datetime | None:
    """A date field of the form (YYYY-MM-DD) as midnight UTC, `later` days on; None when
    empty; ValueError saying which field when it is no date (or none a calendar holds)."""
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value) + timedelta(days=later), time(), UTC)
    except (ValueError, OverflowError):
        raise ValueError(f"{which}: {value!r} is not a date (YYYY-MM-DD)") from None


@router.get("/stories/{story_id:int}", response_class=HTMLResponse)  # else: not found
def story(request: Request, story_id: int) -> HTMLResponse:
    engine = _engine(request)
    articles = story_articles(engine, story_id) if story_id <= ID_MAX else []
    if not articles:
        return _not_found(request, f"There is no story {story_id}.")
    profiles = story_profiles(engine, story_id)
    return page(request, "story.html", story_id=story_id, articles=articles, profiles=profiles)


@router.get("/profiles/{name}", response_class=HTMLResponse)
def profile(request: Request, name: str) -> HTMLResponse:
    found = next((p for p in _profiles(request) if p.name == name), None)
    if found is None:
        return _not_found(request, f"There is no profile named {name!r}.")
    engine = _engine(request)
    days = _per_day(engine, name, PROFILE_DAYS, datetime.now(UTC))
    return page(
        request,
        "profile.html",
        profile=found,
        total=hit_total(engine, name),
        days=PROFILE_DAYS,
        per_day=bar_chart(days, what=f"Hits of {name}"),
        hits=page_of_hits(engine, HitFilter(profile=name), LATEST),
        **profile_feedback(request, name),
    )


@dataclass(frozen=True, slots=True)
class _FeedRow:
    """A feed as the pages show it: its URL and error without credentials."""

    id: int
    label: str
    url: str
    status: str
    category: str | None
    last_success: datetime | None
    failures: int
    error: str | None


def _feeds(engine: Engine) -> list[_FeedRow]:
    return [
        _FeedRow(
            id=health.id,
            label=health.name or redact_url(health.url),
            url=redact_url(health.url),
            status=health.status,
            category=health.error_category,
            last_success=health.last_success_at,
            failures=health.consecutive_failures,
            error=redact_urls(health.error) if health.error else None,
        )
        for health in feed_health(engine, recent=False)
    ]


@router.get("/feeds", response_class=HTMLResponse)
def feeds(request: Request) -> HTMLResponse:
    return page(request, "feeds.html", feeds=_feeds(_engine(request)))


@router.get("/login", response_class=HTMLResponse)
def login(request: Request, next_path: Annotated[str, Query(alias="next")] = "/") -> HTMLResponse:
    return page(request, "login.html", next=next_path, problem=None)


@router.post("/login")
def login_without_token() -> RedirectResponse:
    """Reached only when the application has no token (monitor.web.access signs in otherwise):
    there is nothing to sign in to."""
    return RedirectResponse("/", status_code=303)


def _not_found(request: Request, message: str) -> HTMLResponse:
    return page(request, "error.html", 404, status=404, reason="Not Found", message=message)
