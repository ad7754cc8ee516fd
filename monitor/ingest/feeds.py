"""Feed documents (RSS, RDF, Atom via feedparser; JSON Feed) to entries, from fetched bytes."""

from __future__ import annotations

import calendar
import hashlib
import io
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar

import feedparser

from monitor.errors import FeedParseError
from monitor.ingest.discover import discover_feeds
from monitor.ingest.encoding import Decoded, decode_document
from monitor.ingest.entries import RawEntry, build_entries, plain_text
from monitor.ingest.jsonfeed import looks_like_json, read_json_feed
from monitor.ingest.prolog import defuse_doctype, defused, root_start
from monitor.models import ParsedFeed, WebPage

__all__ = [
    "FeedDocumentError",
    "NotAFeed",
    "body_fingerprint",
    "defuse_doctype",
    "discover_feeds",
    "parse_feed",
]

# feedparser reports these for documents it still read correctly.
_BENIGN = ("CharacterEncodingOverride", "CharacterEncodingUnknown", "NonXMLContentType")
_ROOT_NAME = re.compile(r"<([A-Za-z0-9_:.\-]+)")
_HTML_ROOTS = frozenset({"html", "head", "body"})
_FEED_ROOTS = frozenset({"rss", "rdf", "feed", "channel"})  # local names, prefix dropped
# feedparser raises on a character reference outside Unicode (LIBRARY-NOTES §1.2) and passes
# surrogates and NUL through to the database; one such item must not fail its feed.
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,24}));")


class FeedDocumentError(FeedParseError):
    """A fetched document gave no entries; `category` says why, for health reports."""

    category: ClassVar[str] = "parse_error"  # a feed, but unreadable


class NotAFeed(FeedDocumentError):
    """The document is a web page announcing no feed, or another kind of document. (A web
    page that announces feeds is not an error: parse_feed returns it as a WebPage.)"""

    category: ClassVar[str] = "not_a_feed"


def body_fingerprint(body: bytes) -> str:
    """sha256 of a fetched body: equal to the last poll's means the entries are the same."""
    return hashlib.sha256(body).hexdigest()


def parse_feed(
    body: bytes, url: str, content_type: str = "", *, now: datetime | None = None
) -> ParsedFeed | WebPage:
    """Entries of one feed document, links resolved against `url` (the URL after redirects).

    `content_type` is the response header; its charset counts only when the bytes agree.
    With `now`, entry dates after it are clamped to it (see entries.build_entries).
    A web page announcing feeds (autodiscovery) comes back as a WebPage listing them. Raises
    NotAFeed for any other non-feed document, FeedDocumentError when nothing usable came
    out of a feed document.

    The bytes are decoded here (encoding.decode_document), the prolog replaced by a UTF-8
    declaration (prolog.defused) and the result handed to feedparser as UTF-8 bytes with a
    matching header: its own charset guessing has nothing left to get wrong, and no DTD,
    entity declaration or external reference ever reaches expat or its fallback parser.
    """
    decoded = decode_document(body, content_type)
    if "\x00" in decoded.text:  # no parser or database wants NUL characters
        decoded = replace(decoded, text=decoded.text.replace("\x00", "\ufffd"))
    if looks_like_json(decoded.text):
        return _json_feed(decoded, url, now)
    root = _root_name(decoded.text)
    local = root.rsplit(":", 1)[-1]
    media = content_type.partition(";")[0].strip().lower()
    if local in _HTML_ROOTS or (media == "text/html" and local not in _FEED_ROOTS):
        page = WebPage(url, tuple(discover_feeds(body, url)))
        if page.alternates:
            return page
        raise NotAFeed(page.problem)
    try:
        doc = feedparser.parse(
            io.BytesIO(_CHAR_REF.sub(_char_ref, defused(decoded.text)).encode("utf-8")),
            # No content-location: feedparser would resolve a bare <guid> ("g3") against it
            # and present it as the entry link; entry links are resolved in entries instead.
            response_headers={"content-type": "application/xml; charset=utf-8"},
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # feedparser can raise on malformed input (LIBRARY-NOTES §1.2)
        name = type(exc).__name__
        raise FeedDocumentError(f"{url}: unreadable feed document ({name}: {exc})") from exc
    problem = _problem(doc)
    entries = build_entries((_raw(item) for item in doc.get("entries", [])), url, now)
    version = doc.get("version") or None
    if not entries and not version:
        if problem:
            raise FeedDocumentError(f"{url}: no feed could be read ({problem})")
        raise NotAFeed(f"{url}: not a feed but an XML document <{root or '?'}>")
    return ParsedFeed(
        title=plain_text(doc.get("feed", {}).get("title", "")) or None,
        entries=entries,
        problem=problem,
        version=version,
        encoding=_encoding(decoded),
    )


def _json_feed(decoded: Decoded, url: str, now: datetime | None) -> ParsedFeed:
    try:
        feed = read_json_feed(decoded.text)
    except ValueError as exc:
        raise FeedDocumentError(f"{url}: unreadable JSON feed ({exc})") from None
    if feed is None:
        raise NotAFeed(f"{url}: not a feed but a JSON document")
    return ParsedFeed(
        title=plain_text(feed.title or "") or None,
        entries=build_entries(feed.entries, url, now),
        version=feed.version,
        encoding=_encoding(decoded),
    )


def _char_ref(ref: re.Match[str]) -> str:
    code = int(ref.group(1), 16) if ref.group(1) else int(ref.group(2))
    usable = 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF
    return ref.group() if usable else "&#xFFFD;"


def _root_name(text: str) -> str:
    """The root element's name, lower-cased ("rss", "rdf:rdf", "html"), or ""."""
    start = root_start(text)
    found = _ROOT_NAME.match(text, start) if start is not None else None
    return found.group(1).lower() if found else ""


def _problem(doc: Any) -> str | None:
    if not doc.get("bozo"):
        return None
    reason = doc.get("bozo_exception")
    name = type(reason).__name__
    return None if name in _BENIGN else f"{name}: {reason}"


def _raw(item: Any) -> RawEntry:
    """An item of feedparser's as a RawEntry; dict.get avoids feedparser's key fallbacks
    (its "updated" → "published" mapping warns and is going away)."""
    get = dict.get
    link = get(item, "link")
    if get(item, "guidislink") and not str(link or "").startswith(("http://", "https://")):
        link = None  # feedparser took a non-URL <guid> ("g3", "urn:…") for the link
    contents = get(item, "content") or []
    longest = max((get(c, "value", "") for c in contents), key=len, default="")
    summary = get(item, "summary", "")
    return RawEntry(
        guid=get(item, "id"),
        link=link,
        title=get(item, "title", ""),
        summary=longest if len(longest) > len(summary) else summary,
        published=_date(item),
        date_text=get(item, "published") or get(item, "updated") or get(item, "created") or "",
    )


def _date(item: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = dict.get(item, key)
        if parsed:
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def _encoding(decoded: Decoded) -> str:
    return f"{decoded.encoding} ({decoded.source})"
