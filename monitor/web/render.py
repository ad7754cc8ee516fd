"""HTML for browsers: the Jinja2 environment of the pages (autoescape on, a misspelt variable
an error), the filters that keep what a feed wrote plain text, and the HTML error page that
replaces the JSON error for a browser asking for a page (the API stays JSON)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from monitor.profiles.normalize import printable

_MARKED = re.compile(r"\*\*(.+?)\*\*", re.S)  # how stored snippets mark the matched terms
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}")  # a BCP 47 tag, roughly
_API_EXACT = ("/api", "/openapi.json", "/healthz", "/metrics")


def is_api_path(path: str) -> bool:
    """Paths answered for programs (JSON, Atom, metrics), never with a page or a redirect."""
    return (
        path in _API_EXACT
        or path.startswith("/api/")
        or (path.startswith("/feeds/") and path.endswith(".atom"))
    )


def page(request: Request, template: str, status: int = 200, /, **context: Any) -> HTMLResponse:
    """`template` rendered with `context` (and the request) as an HTML response."""
    html = _environment().get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse | None:
    """The error as a page when a browser asked for a page; None when JSON is the answer
    (an API path, or a client that does not accept HTML)."""
    if is_api_path(request.url.path) or "text/html" not in request.headers.get("accept", ""):
        return None
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    return page(request, "error.html", status, status=status, reason=reason, message=message)


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("monitor.web", "templates"),
        autoescape=True,  # every value is escaped; no template uses |safe on feed text
        undefined=StrictUndefined,
        finalize=_shown,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(marks=marks, web_link=web_link, lang_tag=lang_tag, when=when, day=day)
    return env


def _shown(value: Any) -> Any:
    """What every printed value goes through: text loses control and direction characters (a
    right-to-left override in a headline cannot reorder the page); markup passes as it is."""
    return printable(value) if type(value) is str else value


def marks(snippet: str) -> Iterator[tuple[str, bool]]:
    """A stored snippet as (text, is a matched term) pieces, its `**term**` marks removed: the
    template wraps matched pieces in <mark>, and every piece is escaped as text."""
    for i, piece in enumerate(_MARKED.split(snippet)):  # odd indexes: the marked words
        if piece:
            yield piece, i % 2 == 1


def web_link(url: str | None) -> str | None:
    """The URL when it is an http(s) link, else None (javascript:, data:, garbage): only the
    former becomes an href."""
    if not url:
        return None
    url = "".join(ch for ch in url.strip() if " " <= ch != "\x7f")
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def lang_tag(language: str | None) -> str | None:
    """A language code fit for a lang attribute ("zh", "zh-Hant", "ru"), else None."""
    return language if language and _LANGUAGE.fullmatch(language) else None


def when(moment: datetime | None) -> str:
    """A moment in UTC to the minute; "never" for None."""
    if moment is None:
        return "never"
    return _utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def day(moment: datetime | None) -> str:
    """The UTC date of a moment; "date unknown" for None."""
    return _utc(moment).strftime("%Y-%m-%d") if moment else "date unknown"


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
