"""Feed documents to entries: feedparser on the bytes we fetched, never on a URL or path."""

from __future__ import annotations

import calendar
import hashlib
import io
import re
from datetime import UTC, datetime
from typing import Any, cast

import feedparser
import lxml.html
from lxml.etree import ParserError

from monitor.errors import FeedParseError
from monitor.ingest.urls import absolute_link
from monitor.models import Entry, ParsedFeed

# A DOCTYPE with an internal subset can declare entities that expand without bound; feeds
# never need one, so it is removed before parsing (see LIBRARY-NOTES §1.2).
_DOCTYPE = re.compile(rb"<!DOCTYPE\b[^\[>]*(?:\[.*?\]\s*)?>", re.IGNORECASE | re.DOTALL)
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z]")
# feedparser reports these for documents it still read correctly.
_BENIGN = ("CharacterEncodingOverride", "CharacterEncodingUnknown", "NonXMLContentType")


def defuse_doctype(body: bytes) -> bytes:
    """Remove a DOCTYPE declaration (with any internal subset) found before the first element."""
    doctype = _DOCTYPE.search(body)
    if doctype is None:
        return body
    first_element = _FIRST_ELEMENT.search(body)
    if first_element is not None and first_element.start() < doctype.start():
        return body
    return body[: doctype.start()] + body[doctype.end() :]


def parse_feed(body: bytes, url: str, content_type: str = "") -> ParsedFeed:
    """Entries of one feed document; links resolved against `url`.

    Raises FeedParseError only when nothing usable came out of the document.
    """
    try:
        doc = feedparser.parse(
            io.BytesIO(defuse_doctype(body)),
            # No content-location: feedparser would resolve a bare <guid> ("g3") against it
            # and present it as the entry link; entry links are resolved below instead.
            response_headers={"content-type": content_type},
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except (ValueError, OverflowError) as exc:  # out-of-range character references
        raise FeedParseError(f"{url}: unreadable feed document ({exc})") from None
    problem = None
    if doc.get("bozo"):
        reason = doc.get("bozo_exception")
        name = type(reason).__name__
        if name not in _BENIGN:
            problem = f"{name}: {reason}"
    entries = [_entry(raw, url) for raw in doc.get("entries", [])]
    if not entries and problem and not doc.get("version"):
        raise FeedParseError(f"{url}: not a feed ({problem})")
    title = doc.get("feed", {}).get("title")
    return ParsedFeed(title=title or None, entries=entries, problem=problem)


def _entry(raw: Any, base: str) -> Entry:
    link = raw.get("link")
    if raw.get("guidislink") and not str(link or "").startswith(("http://", "https://")):
        link = None  # feedparser took a non-URL <guid> ("g3", "urn:…") for the link
    link = absolute_link(base, link)
    title = _text(raw.get("title", ""))
    summary = _summary(raw)
    guid = (raw.get("id") or "").strip() or link
    if not guid:
        guid = "sha256:" + hashlib.sha256(f"{title}\n{summary}".encode()).hexdigest()
    return Entry(guid=guid, link=link, title=title, summary=summary, published_at=_date(raw))


def _summary(raw: Any) -> str:
    contents = raw.get("content") or []
    longest = max((c.get("value", "") for c in contents), key=len, default="")
    summary = raw.get("summary", "")
    return _text(longest if len(longest) > len(summary) else summary)


def _text(markup: str) -> str:
    """Plain text of an HTML fragment (feeds put HTML in titles and summaries)."""
    if not markup or "<" not in markup:
        return " ".join(markup.split())
    try:
        tree = cast(lxml.html.HtmlElement, lxml.html.fromstring(markup))
    except (ParserError, ValueError):
        return " ".join(markup.split())
    for bad in list(tree.iter("script", "style")):
        bad.drop_tree()
    return " ".join(str(tree.text_content()).split())


def _date(raw: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = raw.get(key)
        if parsed:
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None
