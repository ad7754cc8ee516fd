"""The filters message templates may use (docs/templates.md lists them): times in a zone,
Markdown and HTML escaping, marked snippets, safe links, plurals; and `shown`, what every
printed value goes through (no control or direction characters, no live mentions)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from markupsafe import Markup, escape

from monitor.models import Hit
from monitor.profiles.normalize import printable

log = logging.getLogger("monitor.alerts.templates")

_MARKED = re.compile(r"\*\*(.+?)\*\*", re.S)
_MD_SPECIAL = re.compile(r"([\\`*_~\[\]<>|&])")
_URL_ESCAPES = {
    " ": "%20",
    '"': "%22",
    "(": "%28",
    ")": "%29",
    "<": "%3C",
    ">": "%3E",
    "\\": "%5C",
}
# A mention chat services act on: "@everyone", "@here", "@channel", any "@name" (not the @ of
# an e-mail address or of a URL path), Discord's <@id>, <@&role> and <#channel>, Slack's
# <!channel>. A zero-width space after the sign keeps it readable and makes it no mention.
_MENTION = re.compile(r"(?<![\w.+\-/=:])[@\uff20](?=\w)|<(?=[@!#])")
_ZWSP = "\u200b"


def when(value: datetime | None, tz: str = "UTC", pattern: str = "%Y-%m-%d %H:%M %Z") -> str:
    """A moment in the IANA time zone `tz` ("date unknown" for None; naive means UTC)."""
    if value is None:
        return "date unknown"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(_zone(tz)).strftime(pattern)


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r in a message; times shown in UTC", name)
        return UTC


def md_escape(text: object) -> str:
    """Backslash-escape what Markdown would read as markup or as the end of a link label."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def md_marked(snippet: str) -> str:
    """A snippet for Markdown: its text escaped, its `**matches**` kept bold."""
    pieces = _MARKED.split(snippet)  # even indexes: plain text; odd: the marked words
    return "".join(
        md_escape(piece) if i % 2 == 0 else f"**{md_escape(piece)}**"
        for i, piece in enumerate(pieces)
    )


def marked(snippet: str) -> Markup:
    """A snippet for HTML: its text escaped, then `**matches**` turned into <strong>."""
    pieces = _MARKED.split(snippet)  # even indexes: plain text; odd: the marked words
    return Markup("").join(
        escape(piece) if i % 2 == 0 else Markup("<strong>{}</strong>").format(piece)
        for i, piece in enumerate(pieces)
    )


def paragraphs(text: str) -> Markup:
    """Plain text as HTML: escaped, blank lines start a <p>, single line breaks kept."""
    blocks = [block.strip() for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]
    return Markup("\n").join(
        Markup("<p>{}</p>").format(Markup("<br>\n").join(block.splitlines())) for block in blocks
    )


def web_url(url: str) -> str:
    """The URL if it is http(s), with what would break a Markdown link or an attribute
    percent-encoded; "" for anything else (javascript:, data:, garbage)."""
    url = "".join(ch for ch in url.strip() if ch >= " " and ch != "\x7f")
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return ""
    if scheme not in ("http", "https"):
        return ""
    return "".join(_URL_ESCAPES.get(ch, ch) for ch in url)


def unmention(text: str) -> str:
    """`text` with every mention a chat service would act on broken by a zero-width space:
    a feed cannot ping a whole channel or a person."""
    return (
        _MENTION.sub(lambda found: found.group() + _ZWSP, text)
        if "@" in text or "<" in text or "\uff20" in text
        else text
    )


def shown(value: Any) -> Any:
    """What a template prints (the environment's `finalize`, for every {{ }} in every
    format): text without control or direction characters and without live mentions;
    Markup stays Markup, other values are left to Jinja."""
    if isinstance(value, Markup):  # already safe HTML: removing characters keeps it so
        return Markup(unmention(printable(str(value))))  # noqa: S704
    if isinstance(value, str):
        return unmention(printable(value))
    return value


def plural(count: int, singular: str, many: str | None = None) -> str:
    """ "1 hit", "12 hits"; `many` for irregular words: plural(n, "story", "stories")."""
    return f"{count} {singular if count == 1 else many or singular + 's'}"


def snippets(hit: Hit) -> list[str]:
    """The hit's keyword-in-context snippets: all of them, else its single snippet."""
    return list(hit.snippets) or ([hit.snippet] if hit.snippet else [])


FILTERS: dict[str, Callable[..., Any]] = {
    "when": when,
    "md_escape": md_escape,
    "md_marked": md_marked,
    "marked": marked,
    "paragraphs": paragraphs,
    "web_url": web_url,
    "plural": plural,
    "snippets": snippets,
    "printable": printable,
    "unmention": unmention,
}
