"""One new entry through the stages after its feed: its page fetched and extracted (or its
own text when the page cannot be used), every profile matched, its story found, and
article, hits and pending alerts stored in one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Literal

from monitor.config.secrets import redact_url
from monitor.errors import ExtractError, ExtractorUnavailable, FetchBlocked, FetchError
from monitor.ingest.pool import page_date
from monitor.models import Article, DueFeed, Entry, Match, Route, StoredEntry
from monitor.pipeline.context import PollContext
from monitor.pipeline.newentries import stored_article
from monitor.pipeline.stories import STORY_WINDOW, bands, best_story
from monitor.profiles.candidates import index_text
from monitor.profiles.matcher import folded_fields
from monitor.profiles.profile import Doc

log = logging.getLogger("monitor.poll")

_HTML_TYPES = ("text/html", "application/xhtml+xml", "")
OVER_POLL_BUDGET = "page not fetched: more new entries than fetch.max_pages_per_poll in one poll"

Done = StoredEntry | Literal["linked", "deferred"]


async def process_entry(
    feed: DueFeed,
    source: str,
    entry: Entry,
    ctx: PollContext,
    now: datetime,
    *,
    page: bool = True,
) -> Done:
    """Fetch, extract, match and store one new entry. "linked" when its article was stored
    before (the entry is linked to it); "deferred" when its page's host has spent this
    cycle's page budget (nothing stored: a later poll takes it). Page failures, and
    `page=False` (over the poll's page budget), fall back to the entry's own text."""
    url, known = await stored_article(ctx.store, feed.id, entry)
    if known is not None:  # processed already (another feed, or the same link twice)
        await asyncio.to_thread(ctx.store.link_entry, feed.id, entry, known, now)
        return "linked"
    if not page:
        article = await _from_entry(entry, url, OVER_POLL_BUDGET, ctx)
    elif entry.link is not None and not ctx.hosts.take(entry.link):
        return "deferred"
    else:
        article = await _article(entry, url, feed.id, feed.url, ctx)
    doc = Doc(
        title=article.title,
        text=article.text,
        url=entry.link or url,
        source=" | ".join(s for s in (source, article.sitename) if s),
        language=article.language,
    )
    with ctx.times.stage("match"):
        fields = folded_fields(doc)
        matches = ctx.matcher.match(doc, fields)
    # the search index holds the same folding: done once (profiles.candidates.index_text)
    article = replace(
        article, search_text=index_text(fields["title"].folded, fields["text"].folded)
    )
    routes = ctx.routes if alertable(entry, feed, ctx.settings.alerts.max_age, now) else {}
    async with ctx.store_lock:  # two copies of a story in one cycle must see each other
        with ctx.times.stage("store"):
            return await _store(feed, entry, article, matches, routes, ctx, now)


def alertable(entry: Entry, feed: DueFeed, max_age: float, now: datetime) -> bool:
    """Old entries are stored and matched but alert no one; on a feed's first poll (a
    backfill) an undated entry counts as old too."""
    if entry.published_at is None:
        return not feed.first_poll
    return now - entry.published_at <= timedelta(seconds=max_age)


async def _store(
    feed: DueFeed,
    entry: Entry,
    article: Article,
    matches: list[Match],
    routes: dict[str, list[Route]],
    ctx: PollContext,
    now: datetime,
) -> StoredEntry:
    story_id: int | None = None
    band_values: list[int] = []
    if article.signature is not None:
        band_values = bands(article.signature)
        candidates = await asyncio.to_thread(
            ctx.store.story_candidates, band_values, now - STORY_WINDOW
        )
        story_id = best_story(article.signature, candidates)
    return await asyncio.to_thread(
        ctx.store.store_article,
        feed_id=feed.id,
        entry=entry,
        article=article,
        matches=matches,
        routes=routes,
        now=ctx.clock(),
        story_id=story_id,
        band_values=band_values,
    )


def _tell_refused(feed_id: int, feed_url: str, exc: FetchBlocked, ctx: PollContext) -> None:
    """A link the address policy refused: said once per feed and cycle, with the setting
    that opens a network (the entry is matched on its own text meanwhile)."""
    if feed_id in ctx.refused:
        return
    ctx.refused.add(feed_id)
    log.warning(
        "feed %s links to an address the policy refuses (%s); its entries are matched on "
        "their own text. If the feed's links are meant to reach that network (a local or "
        "intranet site), add it to fetch.allow_networks in monitor.yaml",
        redact_url(feed_url),
        exc.reason,
    )


async def _article(
    entry: Entry, url: str, feed_id: int, feed_url: str, ctx: PollContext
) -> Article:
    """The entry's page, extracted; on any failure the entry's own title and summary."""
    if entry.link is None:
        return await _from_entry(entry, url, "the entry has no link", ctx)
    try:
        async with ctx.pages or contextlib.nullcontext():
            with ctx.times.stage("fetch_article"):
                async with ctx.limit:
                    response = await ctx.fetcher.get(entry.link, origin=feed_url)
            kind = response.content_type.split(";")[0].strip().lower()
            if kind not in _HTML_TYPES:
                return await _from_entry(entry, url, f"page skipped: content type {kind}", ctx)
            with ctx.times.stage("extract"):
                extracted = await ctx.pool.extract(response.body, response.url)
    except (FetchError, ExtractError) as exc:
        if isinstance(exc, FetchBlocked) and exc.category == "blocked_address":
            _tell_refused(feed_id, feed_url, exc, ctx)
        if isinstance(exc, ExtractorUnavailable):
            ctx.extract_problem = str(exc).split(": ", 1)[-1]  # without the page's URL
        return await _from_entry(entry, url, f"page not used: {exc}", ctx)
    ctx.pages_extracted += 1
    if extracted is None:
        return await _from_entry(entry, url, "page holds no article text", ctx)
    return Article(
        url=url,
        title=entry.title or extracted.title or "",
        text=extracted.text,
        language=extracted.language,  # identified in the worker
        author=extracted.author,
        sitename=extracted.sitename,
        published_at=entry.published_at or page_date(extracted),
        signature=extracted.signature,
        capture=response.capture(entry.link, ctx.clock()),
    )


async def _from_entry(entry: Entry, url: str, note: str, ctx: PollContext) -> Article:
    """The entry's own title and summary as the article (language and signature computed
    in the worker pool)."""
    language, sig = await ctx.pool.describe(f"{entry.title}\n{entry.summary}")
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
