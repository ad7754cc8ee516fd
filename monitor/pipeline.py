"""One feed through every stage: fetch, parse, drop seen entries, fetch and extract each new
article, match every profile, store article + hits + pending alerts in one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine

from monitor.errors import ExtractError, FeedParseError, FetchError, FetchStatus
from monitor.feeddocument import ParseInWorker, new_entries
from monitor.health import next_poll_at
from monitor.ingest.extract import page_date
from monitor.ingest.feeds import NotAFeed, body_fingerprint
from monitor.ingest.fetch import Response
from monitor.ingest.urls import canonical_url
from monitor.logs import FIELDS
from monitor.models import Article, Entry, Extracted, Match, Route
from monitor.pollrecorder import PollRecorder
from monitor.profiles.profile import Doc
from monitor.settings import Settings
from monitor.store import articles, feeds
from monitor.store.feeds import DueFeed, PollOutcome
from monitor.stories import THRESHOLD, bands, similarity
from monitor.timing import StageTimes

log = logging.getLogger("monitor.poll")

STORY_WINDOW = timedelta(days=7)  # a near-duplicate joins a story started this recently
REVALIDATE_EVERY = 12  # one poll in this many ignores ETag/Last-Modified and the body hash

_HTML_TYPES = ("text/html", "application/xhtml+xml", "")


class Fetch(Protocol):
    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        origin: str | None = None,
    ) -> Response: ...


class Extract(ParseInWorker, Protocol):
    async def extract(self, html: bytes, url: str) -> Extracted | None: ...

    async def describe(self, text: str) -> tuple[str | None, bytes | None]: ...


class MatchAll(Protocol):
    def match(self, doc: Doc) -> list[Match]: ...


@dataclass(slots=True)
class Stages:
    """The collaborators a poll needs; tests pass their own where they own the seam."""

    engine: Engine
    fetcher: Fetch
    extractor: Extract
    matcher: MatchAll
    routes: dict[str, list[Route]]  # profile → where its alerts go
    settings: Settings
    clock: Callable[[], datetime]
    limit: asyncio.Semaphore
    store_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    times: StageTimes = field(default_factory=StageTimes)
    # pages fetched and not yet extracted, at most: keeps memory flat however many entries
    # a cycle finds (None: no limit)
    pages: asyncio.Semaphore | None = None
    recorder: PollRecorder = field(init=False)

    def __post_init__(self) -> None:
        self.recorder = PollRecorder(self.engine)


@dataclass(frozen=True, slots=True)
class PollReport:
    feed: str
    status: str
    http_status: int | None = None
    entries: int = 0
    entries_new: int = 0
    hits: int = 0
    alerts: int = 0
    duration_ms: int = 0
    error: str | None = None
    error_category: str | None = None
    retry_after: float | None = None  # seconds the server asked us to wait (429/503)


async def poll_feed(feed: DueFeed, stages: Stages) -> PollReport:
    """Poll one feed and process its new entries; never raises for a bad feed or entry."""
    started = time.monotonic()
    now = stages.clock()
    interval = feed.interval_seconds or stages.settings.poll_interval
    report, outcome = await _poll(feed, stages, now)
    failures = feed.consecutive_failures + 1 if outcome.status in ("error", "gone") else 0
    next_poll = next_poll_at(
        now, interval, failures, stages.settings.health, retry_after=report.retry_after
    )
    await stages.recorder.add(feeds.PollRecord(feed.id, outcome, stages.clock(), next_poll))
    report = replace(report, duration_ms=int((time.monotonic() - started) * 1000))
    _log_poll(report)
    return report


async def _poll(feed: DueFeed, stages: Stages, now: datetime) -> tuple[PollReport, PollOutcome]:
    # Validators are a hint: every REVALIDATE_EVERY-th poll asks for the whole document, so a
    # server whose 304 lies (or whose body we stopped parsing) cannot hide entries forever.
    fresh = feed.successful_polls % REVALIDATE_EVERY == REVALIDATE_EVERY - 1
    discovered = feed.discovered_url
    with stages.times.stage("fetch_feed"):
        fetched = await _fetch_document(feed, stages, fresh)
    if not isinstance(fetched, Response):
        return fetched
    response = fetched
    if response.not_modified:
        return PollReport(feed.label, "not_modified", http_status=304), PollOutcome("not_modified")
    fingerprint = body_fingerprint(response.body)
    if fingerprint == feed.body_hash and not fresh:  # the same bytes as last time
        return PollReport(feed.label, "not_modified", http_status=response.status), PollOutcome(
            "not_modified"
        )
    try:
        try:
            with stages.times.stage("parse"):
                parsed = await new_entries(stages.engine, stages.extractor, feed.id, response, now)
        except NotAFeed as page:  # a web page: follow its <link rel="alternate"> once
            if discovered or not page.alternates:
                raise
            discovered = page.alternates[0]
            log.info("feed %s is a web page; using its feed %s", feed.label, discovered)
            async with stages.limit:
                response = await stages.fetcher.get(discovered, origin=feed.url)
            fingerprint = body_fingerprint(response.body)
            parsed = await new_entries(stages.engine, stages.extractor, feed.id, response, now)
    except FetchError as exc:
        return _failed(feed, str(exc), None, exc.category)
    except FeedParseError as exc:
        forget = "" if feed.discovered_url else None  # the page's feed is no feed any more
        return _failed(feed, str(exc), response.status, exc.category, discovered_url=forget)
    if parsed.problem:
        log.info("feed %s parsed with a problem: %s", feed.label, parsed.problem)
    new = await asyncio.to_thread(articles.unseen, stages.engine, feed.id, parsed.entries)
    source = " | ".join(dict.fromkeys(s for s in (feed.name, parsed.title) if s))
    results = await asyncio.gather(
        *(_process(feed, source, entry, stages, now) for entry in new), return_exceptions=True
    )
    stored = [r for r in results if isinstance(r, articles.Stored)]
    failed = [(e, r) for e, r in zip(new, results, strict=True) if isinstance(r, BaseException)]
    for entry, error in failed:  # not stored: the entry is new again at the next poll
        log.error(
            "entry %s of feed %s not processed, retried next poll: %s: %s",
            entry.guid,
            feed.label,
            type(error).__name__,
            error,
            exc_info=error,
        )
    kind = "ok" if parsed.entries or parsed.known_skipped else "empty"
    arrived = len(new) - len(failed)  # new entries, also those whose article we already had
    report = PollReport(
        feed.label,
        kind,
        http_status=response.status,
        entries=len(parsed.entries) + parsed.known_skipped,
        entries_new=arrived,
        hits=sum(r.new_hits for r in stored),
        alerts=sum(r.new_alerts for r in stored),
        error=f"{len(failed)} entries failed" if failed else None,
    )
    if failed:  # forget the validators so the next poll gets the whole document again
        return report, PollOutcome(
            kind, title=parsed.title, new_entries=arrived, discovered_url=discovered
        )
    return report, PollOutcome(
        kind,
        etag=response.etag,
        last_modified=response.last_modified,
        title=parsed.title,
        body_hash=fingerprint,
        new_entries=arrived,
        discovered_url=discovered,
    )


async def _fetch_document(
    feed: DueFeed, stages: Stages, fresh: bool
) -> Response | tuple[PollReport, PollOutcome]:
    """The feed document, or the failed poll. A configured web page's feed, once
    discovered, is fetched directly (as a link found on that page)."""
    discovered = feed.discovered_url
    try:
        async with stages.limit:
            return await stages.fetcher.get(
                discovered or feed.url,
                etag=None if fresh else feed.etag,
                last_modified=None if fresh else feed.last_modified,
                origin=feed.url if discovered else None,
            )
    except FetchError as exc:
        if discovered and exc.category in ("http_4xx", "gone"):
            # the page's feed moved: forget it, the next poll asks the page again
            return _failed(feed, str(exc), None, "http_4xx", discovered_url="")
        if isinstance(exc, FetchStatus):
            return _failed(feed, str(exc), exc.status, exc.category, exc.retry_after)
        return _failed(feed, str(exc), None, exc.category)


def _failed(
    feed: DueFeed,
    error: str,
    status: int | None,
    category: str,
    retry_after: float | None = None,
    *,
    discovered_url: str | None = None,
) -> tuple[PollReport, PollOutcome]:
    kind = "gone" if category == "gone" else "error"
    report = PollReport(
        feed.label,
        kind,
        http_status=status,
        error=error,
        error_category=category,
        retry_after=retry_after,
    )
    return report, PollOutcome(kind, error, error_category=category, discovered_url=discovered_url)


async def _process(
    feed: DueFeed, source: str, entry: Entry, stages: Stages, now: datetime
) -> articles.Stored | None:
    """One new entry through fetch, extract, match and store; failures fall back, never raise."""
    url = canonical_url(entry.link) if entry.link else _entry_urn(feed.id, entry.guid)
    engine = stages.engine
    known = await asyncio.to_thread(articles.article_id_for, engine, url)
    if known is not None:  # processed already (another feed, or the same link twice)
        await asyncio.to_thread(articles.link_entry, engine, feed.id, entry, known, now)
        return None
    article = await _article(entry, url, feed.url, stages)
    doc = Doc(
        title=article.title,
        text=article.text,
        url=entry.link or url,
        source=" | ".join(s for s in (source, article.sitename) if s),
        language=article.language,
    )
    with stages.times.stage("match"):
        matches = stages.matcher.match(doc)
    routes = stages.routes if _alertable(entry, feed, stages, now) else {}
    async with stages.store_lock:  # two copies of a story in one cycle must see each other
        with stages.times.stage("store"):
            return await _store(feed, entry, article, matches, routes, stages, now)


async def _store(
    feed: DueFeed,
    entry: Entry,
    article: Article,
    matches: list[Match],
    routes: dict[str, list[Route]],
    stages: Stages,
    now: datetime,
) -> articles.Stored:
    story_id, band_values = await _story(article, stages, now)
    return await asyncio.to_thread(
        articles.store_article,
        stages.engine,
        feed_id=feed.id,
        entry=entry,
        article=article,
        matches=matches,
        routes=routes,
        now=stages.clock(),
        story_id=story_id,
        band_values=band_values,
    )


async def _story(article: Article, stages: Stages, now: datetime) -> tuple[int | None, list[int]]:
    """The story an earlier near-duplicate started (None: a new story), and the bands."""
    if article.signature is None:
        return None, []
    band_values = bands(article.signature)
    candidates = await asyncio.to_thread(
        articles.story_candidates, stages.engine, band_values, now - STORY_WINDOW
    )
    scored = [(similarity(article.signature, sig), story) for story, sig in candidates]
    best = max(scored, default=(0.0, None))
    return (best[1] if best[0] >= THRESHOLD else None), band_values


async def _article(entry: Entry, url: str, feed_url: str, stages: Stages) -> Article:
    """The entry's page, extracted; on any failure the entry's own title and summary."""
    if entry.link is None:
        return await _from_entry(entry, url, "the entry has no link", stages)
    try:
        async with stages.pages or contextlib.nullcontext():
            with stages.times.stage("fetch_article"):
                async with stages.limit:
                    response = await stages.fetcher.get(entry.link, origin=feed_url)
            kind = response.content_type.split(";")[0].strip().lower()
            if kind not in _HTML_TYPES:
                return await _from_entry(entry, url, f"page skipped: content type {kind}", stages)
            with stages.times.stage("extract"):
                extracted = await stages.extractor.extract(response.body, response.url)
    except (FetchError, ExtractError) as exc:
        return await _from_entry(entry, url, f"page not used: {exc}", stages)
    if extracted is None:
        return await _from_entry(entry, url, "page holds no article text", stages)
    return Article(
        url=url,
        title=entry.title or extracted.title or "",
        text=extracted.text,
        language=extracted.language,  # identified in the worker
        author=extracted.author,
        sitename=extracted.sitename,
        published_at=entry.published_at or page_date(extracted),
        signature=extracted.signature,
    )


async def _from_entry(entry: Entry, url: str, note: str, stages: Stages) -> Article:
    """The entry's own title and summary as the article (language and signature computed
    in the worker pool)."""
    language, sig = await stages.extractor.describe(f"{entry.title}\n{entry.summary}")
    return Article(
        url=url,
        title=entry.title,
        text=entry.summary,
        signature=sig,
        language=language,
        published_at=entry.published_at,
        source="entry",
        note=note,
    )


def _alertable(entry: Entry, feed: DueFeed, stages: Stages, now: datetime) -> bool:
    """Old entries are stored and matched but alert no one; on a feed's first poll (a
    backfill) an undated entry counts as old too."""
    if entry.published_at is None:
        return not feed.first_poll
    return now - entry.published_at <= timedelta(seconds=stages.settings.alerts.max_age)


def _entry_urn(feed_id: int, guid: str) -> str:
    return f"urn:monitor:entry:{feed_id}:{hashlib.sha256(guid.encode()).hexdigest()[:24]}"


def _log_poll(report: PollReport) -> None:
    """The one canonical line of a poll: key=value for people, its fields as JSON keys."""
    fields = {
        "feed": report.feed,
        "status": report.status,
        "http_status": report.http_status,
        "entries": report.entries,
        "entries_new": report.entries_new,
        "hits": report.hits,
        "alerts": report.alerts,
        "error_category": report.error_category,
        "duration_ms": report.duration_ms,
        "error": report.error,
    }
    log.log(
        logging.WARNING if report.status in ("error", "gone") else logging.INFO,
        "poll feed=%(feed)r status=%(status)s error_category=%(error_category)s "
        "http_status=%(http_status)s entries=%(entries)d entries_new=%(entries_new)d "
        "hits=%(hits)d alerts=%(alerts)d duration_ms=%(duration_ms)d"
        + (" error=%(error)r" if report.error else ""),
        fields,
        extra={FIELDS: fields},
    )
