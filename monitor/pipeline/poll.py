"""The poll of one feed: fetch its document (conditionally), read what is new in it (following
a web page's feed link once), process each new entry, and end with one PollResult that is
logged as the poll's canonical line and recorded on the feed row with its next poll time."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from datetime import datetime

from monitor.config.secrets import redact_urls
from monitor.errors import FeedParseError, FetchError, FetchStatus
from monitor.ingest.feeds import body_fingerprint
from monitor.ingest.fetch import Response
from monitor.logs import FIELDS
from monitor.models import (
    DueFeed,
    Entry,
    ParsedFeed,
    PollRecord,
    PollResult,
    StoredEntry,
    WebPage,
)
from monitor.pipeline.budget import host_of
from monitor.pipeline.context import PollContext
from monitor.pipeline.entry import process_entry
from monitor.pipeline.health import next_poll
from monitor.pipeline.newentries import read_document, unseen

log = logging.getLogger("monitor.poll")

REVALIDATE_EVERY = 12  # one poll in this many ignores ETag/Last-Modified and the body hash


async def poll_feed(feed: DueFeed, ctx: PollContext) -> PollResult:
    """Poll one feed and process its new entries; never raises for a bad feed or entry."""
    started = time.monotonic()
    now = ctx.clock()
    result = await _poll(feed, ctx, now)
    await ctx.recorder.add(
        PollRecord(feed.id, result, ctx.clock(), next_poll(feed, result, now, ctx.settings))
    )
    result = replace(result, duration_ms=int((time.monotonic() - started) * 1000))
    log_poll(result)
    return result


async def _poll(feed: DueFeed, ctx: PollContext, now: datetime) -> PollResult:
    # Validators are a hint: every REVALIDATE_EVERY-th poll asks for the whole document, so a
    # server whose 304 lies (or whose body we stopped parsing) cannot hide entries forever.
    fresh = feed.successful_polls % REVALIDATE_EVERY == REVALIDATE_EVERY - 1
    with ctx.times.stage("fetch_feed"):
        fetched = await _fetch_document(feed, ctx, fresh)
    if isinstance(fetched, PollResult):
        return fetched
    response = fetched
    if response.not_modified:
        return PollResult(feed.label, "not_modified", http_status=304)
    fingerprint = body_fingerprint(response.body)
    if fingerprint == feed.body_hash and not fresh:  # the same bytes as last time
        return PollResult(feed.label, "not_modified", http_status=response.status)
    discovered = feed.discovered_url
    forget = "" if feed.discovered_url else None  # a failure forgets the page's feed
    try:
        with ctx.times.stage("parse"):
            parsed = await read_document(ctx.store, ctx.pool, feed.id, response, now)
        if isinstance(parsed, WebPage) and not discovered:  # follow its first feed link once
            discovered = parsed.alternates[0]
            log.info("feed %s is a web page; using its feed %s", feed.label, discovered)
            async with ctx.limit:
                response = await ctx.fetcher.get(discovered, origin=feed.url)
            fingerprint = body_fingerprint(response.body)
            parsed = await read_document(ctx.store, ctx.pool, feed.id, response, now)
    except FetchError as exc:
        return _failed(feed, str(exc), None, exc.category)
    except FeedParseError as exc:
        return _failed(feed, str(exc), response.status, exc.category, discovered_url=forget)
    if isinstance(parsed, WebPage):  # a page again: its feed link led to no feed
        return _failed(feed, parsed.problem, response.status, "not_a_feed", discovered_url=forget)
    return await _process(feed, parsed, response, fingerprint, discovered, ctx, now)


async def _process(
    feed: DueFeed,
    parsed: ParsedFeed,
    response: Response,
    fingerprint: str,
    discovered: str | None,
    ctx: PollContext,
    now: datetime,
) -> PollResult:
    """The parsed document's new entries processed concurrently, and the poll's result."""
    if parsed.problem:
        log.info("feed %s parsed with a problem: %s", feed.label, parsed.problem)
    new = await asyncio.to_thread(unseen, ctx.store, feed.id, parsed.entries)
    source = " | ".join(dict.fromkeys(s for s in (feed.name, parsed.title) if s))
    paged = _paged(feed, new, ctx.settings.fetch.max_pages_per_poll)
    results = await asyncio.gather(
        *(process_entry(feed, source, e, ctx, now, page=e in paged) for e in new),
        return_exceptions=True,
    )
    stored = [r for r in results if isinstance(r, StoredEntry)]
    failed = [(e, r) for e, r in zip(new, results, strict=True) if isinstance(r, BaseException)]
    for _, error in failed:  # the database, not the entry: the poll fails (cycle.py says so)
        if isinstance(error, Exception) and ctx.store.unavailable(error) is not None:
            raise error
    deferred = [e for e, r in zip(new, results, strict=True) if r == "deferred"]
    if deferred:  # not stored: new again at the next poll, when the budget is a new one
        hosts = sorted({host_of(e.link or "") for e in deferred})
        log.info(
            "feed %s: %d new entries left for a later poll: %s reached fetch.max_pages_per_host "
            "(%d pages a cycle)",
            feed.label,
            len(deferred),
            ", ".join(hosts),
            ctx.settings.fetch.max_pages_per_host,
        )
    for entry, error in failed:  # not stored: the entry is new again at the next poll
        log.error(
            "entry %s of feed %s not processed, retried next poll: %s: %s",
            entry.guid,
            feed.label,
            type(error).__name__,
            error,
            exc_info=error,
        )
    complete = not failed and not deferred  # else forget the validators: read it all again
    return PollResult(
        feed.label,
        "ok" if parsed.entries or parsed.known_skipped else "empty",
        http_status=response.status,
        entries=len(parsed.entries) + parsed.known_skipped,
        entries_new=len(new) - len(failed) - len(deferred),  # also articles we already had
        hits=sum(r.new_hits for r in stored),
        alerts=sum(r.new_alerts for r in stored),
        error=f"{len(failed)} entries failed" if failed else None,
        etag=response.etag if complete else None,
        last_modified=response.last_modified if complete else None,
        title=parsed.title,
        body_hash=fingerprint if complete else None,
        discovered_url=discovered,
    )


def _paged(feed: DueFeed, new: list[Entry], limit: int) -> set[Entry]:
    """The new entries whose pages this poll fetches: all of them, or the `limit` newest
    (undated ones last); the others are matched on their own text, and the log says so."""
    if not limit or len(new) <= limit:
        return set(new)
    newest = sorted(new, key=lambda e: (e.published_at is not None, e.published_at), reverse=True)
    log.info(
        "feed %s: %d new entries; the pages of the newest %d are fetched, the other %d are "
        "matched on their own text (fetch.max_pages_per_poll)",
        feed.label,
        len(new),
        limit,
        len(new) - limit,
    )
    return set(newest[:limit])


async def _fetch_document(feed: DueFeed, ctx: PollContext, fresh: bool) -> Response | PollResult:
    """The feed document, or the failed poll. A configured web page's feed, once
    discovered, is fetched directly (as a link found on that page)."""
    discovered = feed.discovered_url
    try:
        async with ctx.limit:
            return await ctx.fetcher.get(
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
) -> PollResult:
    return PollResult(
        feed.label,
        "gone" if category == "gone" else "error",
        http_status=status,
        error=redact_urls(error),  # stored and shown: a feed URL's password or token is not
        error_category=category,
        retry_after=retry_after,
        discovered_url=discovered_url,
    )


def log_poll(result: PollResult) -> None:
    """The one canonical line of a poll: key=value for people, its fields as JSON keys."""
    fields = {
        "feed": result.feed,
        "status": result.status,
        "http_status": result.http_status,
        "entries": result.entries,
        "entries_new": result.entries_new,
        "hits": result.hits,
        "alerts": result.alerts,
        "error_category": result.error_category,
        "duration_ms": result.duration_ms,
        "error": result.error,
    }
    log.log(
        logging.WARNING if result.failed else logging.INFO,
        "poll feed=%(feed)r status=%(status)s error_category=%(error_category)s "
        "http_status=%(http_status)s entries=%(entries)d entries_new=%(entries_new)d "
        "hits=%(hits)d alerts=%(alerts)d duration_ms=%(duration_ms)d"
        + (" error=%(error)r" if result.error else ""),
        fields,
        extra={FIELDS: fields},
    )
