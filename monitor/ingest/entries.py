"""Format-neutral items to Entry records: identity, content hash, plain text, clamped dates."""

from __future__ import annotations

import hashlib
import html
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import cast

import lxml.html
from lxml.etree import LxmlError

from monitor.ingest.urls import absolute_link, canonical_url
from monitor.models import Entry
from monitor.profiles.normalize import printable

# The entry table keys entries by (feed, guid) in a column of this length; a longer GUID is
# replaced by its hash so one oversized item cannot fail its feed at every poll.
MAX_GUID = 2048


@dataclass(frozen=True, slots=True)
class RawEntry:
    """An item as a format parser found it, before identity and text are worked out."""

    guid: str | None  # the feed's own id (<guid>, <id>, rdf:about, JSON "id")
    link: str | None  # as written: may be relative
    title: str  # may hold HTML
    summary: str  # may hold HTML
    published: datetime | None  # aware, UTC
    date_text: str = ""  # the date as written: part of the identity of an item without id/link


def build_entries(raws: Iterable[RawEntry], base: str, now: datetime | None) -> list[Entry]:
    """Entries in document order; a repeated GUID keeps its first item.

    Items with neither title, link nor summary are dropped (nothing to read or alert on).
    With `now`, a date after it is replaced by `now` and the entry marked `date_clamped`: a
    publisher's clock or time zone is wrong, and a date years ahead must not sort first for
    years. Without `now` dates are kept as written (this module reads no clock).
    """
    entries: list[Entry] = []
    seen: set[str] = set()
    for raw in raws:
        entry = _entry(raw, base)
        if entry is None or entry.guid in seen:
            continue
        seen.add(entry.guid)
        if now is not None and entry.published_at is not None and entry.published_at > now:
            entry = replace(entry, published_at=now, date_clamped=True)
        entries.append(entry)
    return entries


def content_hash(title: str, summary: str) -> str:
    """sha256 of title and summary with whitespace runs collapsed: differs when either is edited."""
    text = " ".join(title.split()) + "\n" + " ".join(summary.split())
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def plain_text(markup: str) -> str:
    """Plain text of an HTML fragment (feeds put HTML in titles and summaries), whitespace
    collapsed, without control characters or bidirectional overrides."""
    markup = printable(markup)
    if "<" not in markup:
        text = printable(html.unescape(markup)) if "&" in markup else markup
        return " ".join(text.split())
    try:
        tree = cast(lxml.html.HtmlElement, lxml.html.fromstring(markup))
    except (LxmlError, ValueError):
        return " ".join(markup.split())
    for bad in list(tree.iter("script", "style")):
        bad.drop_tree()
    return " ".join(printable(str(tree.text_content())).split())


def _entry(raw: RawEntry, base: str) -> Entry | None:
    link = absolute_link(base, raw.link)
    title = plain_text(raw.title)
    summary = plain_text(raw.summary)
    if not (title or link or summary):
        return None
    return Entry(
        guid=_identity(raw.guid, link, title, raw.date_text, summary),
        link=link,
        title=title,
        summary=summary,
        published_at=raw.published,
        content_hash=content_hash(title, summary),
    )


def _identity(guid: str | None, link: str | None, title: str, date: str, summary: str) -> str:
    """The feed's GUID, else the canonical link, else a hash of title and date as written
    (of the summary when both are missing): a publisher editing a summary keeps the identity."""
    guid = (guid or "").strip()
    if guid:
        return guid if len(guid) <= MAX_GUID else _hashed(guid)
    if link:
        canonical = canonical_url(link)
        return canonical if len(canonical) <= MAX_GUID else _hashed(canonical)
    date = " ".join(date.split())
    return _hashed(f"{title}\n{date}" if title or date else summary)


def _hashed(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
