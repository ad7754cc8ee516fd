"""Which entries of a feed document are new: the one place that decides it, at three levels,
cheapest first.

1. Before parsing: lxml reads the items' explicit GUIDs in milliseconds, one query finds the
   ones this feed has stored, and those items leave the document unparsed (feedparser costs
   about 1 ms an item).
2. After parsing: entries whose GUID this feed has stored are dropped (items without an
   explicit GUID get theirs from the link or a hash, known only once parsed), and of a GUID
   repeated in one document only the first entry counts.
3. Per entry: one whose article is stored already under the same canonical URL (another feed
   carried it, or the link came twice) is linked to that article, not fetched again.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime

from monitor.ingest.fetch import Response
from monitor.ingest.prune import item_guids, parse_pruned
from monitor.ingest.urls import canonical_url
from monitor.models import Entry, ParsedFeed, WebPage
from monitor.pipeline.ports import PollStore, WorkerJobs

LARGE_FEED_BYTES = 256 * 1024  # larger feed documents are parsed in the worker pool


async def read_document(
    store: PollStore, pool: WorkerJobs, feed_id: int, response: Response, now: datetime
) -> ParsedFeed | WebPage:
    """The document's entries without the items this feed has stored (level 1), or the web
    page it turned out to be. Small documents are handled in a thread; large ones go to the
    worker pool with its time limit, so the event loop keeps going."""
    if len(response.body) > LARGE_FEED_BYTES:
        known = await asyncio.to_thread(store.known_guids, feed_id)
        return await pool.parse(response.body, response.url, response.content_type, now, known)
    return await asyncio.to_thread(parse_known_first, store, feed_id, response, now)


def parse_known_first(
    store: PollStore, feed_id: int, response: Response, now: datetime
) -> ParsedFeed | WebPage:
    """A small document's entries without the items this feed has stored (run in a thread;
    also what benchmarks/changed.py measures)."""
    guids = item_guids(response.body, response.content_type)
    stored = store.stored_guids(feed_id, guids) if guids else set()
    return parse_pruned(response.body, response.url, response.content_type, now, stored)


def unseen(store: PollStore, feed_id: int, entries: list[Entry]) -> list[Entry]:
    """The entries this feed has not stored, first occurrence of a repeated GUID only, in
    document order (level 2; blocks: run it in a thread)."""
    first: dict[str, Entry] = {}
    for entry in entries:
        first.setdefault(entry.guid, entry)
    if not first:
        return []
    known = store.stored_guids(feed_id, list(first))
    return [entry for guid, entry in first.items() if guid not in known]


async def stored_article(store: PollStore, feed_id: int, entry: Entry) -> tuple[str, int | None]:
    """The entry's article URL (its canonical link, or a URN when it has none) and the id of
    the article already stored under it, if any (level 3)."""
    url = canonical_url(entry.link) if entry.link else entry_urn(feed_id, entry.guid)
    return url, await asyncio.to_thread(store.article_id_for, url)


def entry_urn(feed_id: int, guid: str) -> str:
    """The article URL of an entry without a link: unique per feed and GUID."""
    return f"urn:monitor:entry:{feed_id}:{hashlib.sha256(guid.encode()).hexdigest()[:24]}"
