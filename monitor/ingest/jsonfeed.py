"""JSON Feed 1.0 and 1.1 documents (https://www.jsonfeed.org/version/1.1/) to raw entries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from monitor.ingest.entries import RawEntry

_VERSION_PREFIXES = ("https://jsonfeed.org/version/", "http://jsonfeed.org/version/")


@dataclass(frozen=True, slots=True)
class JsonFeed:
    """A JSON Feed's title, version ("json10", "json11") and items."""

    title: str | None
    version: str
    entries: list[RawEntry]


def looks_like_json(text: str) -> bool:
    """Whether a document is JSON rather than markup (its first character opens an object)."""
    return text.lstrip(" \t\r\n\ufeff")[:1] == "{"


def read_json_feed(text: str) -> JsonFeed | None:
    """The feed in `text`; None for JSON that is not a JSON Feed.

    Raises ValueError when `text` is not JSON (or nests too deeply to read).
    """
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if not isinstance(data, dict):
        return None
    version = _text(data.get("version"))
    items = data.get("items")
    if not version.startswith(_VERSION_PREFIXES) or not isinstance(items, list):
        return None
    number = version.rsplit("/", 1)[-1].replace(".", "")
    return JsonFeed(
        title=_text(data.get("title")) or None,
        version=f"json{number}" if number.isdigit() else "json",
        entries=[_entry(item) for item in items if isinstance(item, dict)],
    )


def _entry(item: dict[str, Any]) -> RawEntry:
    contents = [_text(item.get(key)) for key in ("content_html", "content_text", "summary")]
    date = _text(item.get("date_published")) or _text(item.get("date_modified"))
    guid = item.get("id")
    if isinstance(guid, int | float) and not isinstance(guid, bool):
        guid = str(guid)  # the spec tells readers to coerce a numeric id to a string
    return RawEntry(
        guid=guid if isinstance(guid, str) else None,
        link=_text(item.get("url")) or _text(item.get("external_url")) or None,
        title=_text(item.get("title")),
        summary=max(contents, key=len),
        published=_date(date),
        date_text=date,
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _date(value: str) -> datetime | None:
    """An RFC 3339 date as an aware UTC datetime; None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
