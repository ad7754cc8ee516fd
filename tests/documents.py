"""Feed documents in tests: parsed where the test knows the bytes are a feed."""

from __future__ import annotations

from datetime import datetime

from monitor.ingest.feeds import parse_feed
from monitor.models import ParsedFeed


def feed_document(
    body: bytes, url: str, content_type: str = "", *, now: datetime | None = None
) -> ParsedFeed:
    """parse_feed of a document the test knows is a feed (not a web page announcing one)."""
    parsed = parse_feed(body, url, content_type, now=now)
    assert isinstance(parsed, ParsedFeed), f"{url}: a web page, not a feed: {parsed}"
    return parsed
