"""A changed feed document's entries, without the items its feed has stored already: lxml
reads the items' GUIDs in milliseconds, one query finds the stored ones, and feedparser
(about 1 ms an item) parses only the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Set
from datetime import datetime
from typing import Protocol

from sqlalchemy import Engine

from monitor.ingest.fetch import Response
from monitor.ingest.prune import item_guids, parse_pruned
from monitor.models import ParsedFeed
from monitor.store import articles

LARGE_FEED_BYTES = 256 * 1024  # larger feed documents are parsed in the worker pool


class ParseInWorker(Protocol):
    async def parse(
        self, body: bytes, url: str, content_type: str, now: datetime, known: Set[str]
    ) -> ParsedFeed: ...


async def new_entries(
    engine: Engine, pool: ParseInWorker, feed_id: int, response: Response, now: datetime
) -> ParsedFeed:
    """The document's entries this feed has not stored. Small documents are handled in a
    thread; large ones go to the worker pool with its time limit, so the event loop keeps
    going."""
    if len(response.body) > LARGE_FEED_BYTES:
        known = await asyncio.to_thread(articles.known_guids, engine, feed_id)
        return await pool.parse(response.body, response.url, response.content_type, now, known)
    return await asyncio.to_thread(parse_known_first, engine, feed_id, response, now)


def parse_known_first(
    engine: Engine, feed_id: int, response: Response, now: datetime
) -> ParsedFeed:
    """A small document's entries without the items this feed has stored (run in a thread;
    also what benchmarks/changed.py measures)."""
    guids = item_guids(response.body, response.content_type)
    stored = articles.stored_guids(engine, feed_id, guids) if guids else set()
    return parse_pruned(response.body, response.url, response.content_type, now, stored)
