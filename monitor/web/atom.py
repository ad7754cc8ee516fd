"""Atom feeds of hits (RFC 4287) any feed reader can subscribe to: `/feeds/hits.atom` (every
profile) and `/feeds/profiles/{name}.atom` (one), newest stored first, narrowed by the read
API's filters (`feed`, `language`, `since`, `until`, `story`, `limit`).

Ids. A reader knows an entry by its id, so a hit's id never changes: a tag URI (RFC 4151)
under a fixed authority, `tag:governance-monitor.invalid,2026:hit/PROFILE/HASH`, HASH being
the first 32 hex digits of the SHA-256 of the article's link. It depends neither on the request
(host, port, filters, which feed shows the hit) nor on database ids (renumbered by a restore or
a move to PostgreSQL). Two hits of one profile with the same link are one entry to a reader:
the document keeps the newer. A feed's own id is its path and its filters under that authority.

Caching. The ETag is a hash of the document's bytes: it changes with a new hit (its id and
stored time are in the document), with other filters, and as well with what the newest-hit
rule would miss (a hit stored late with an earlier time, a renamed outlet). Last-Modified is
when the newest hit shown was stored. `If-None-Match` (or, without it, `If-Modified-Since`)
that still holds is answered 304 without a body.

Text. Everything from a feed is text: titles, snippets, terms and outlet names go into the
tree as strings (lxml escapes them), stripped of the characters XML forbids and of control and
direction characters; the document carries no markup of theirs, and links are http(s) only.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from lxml import etree
from sqlalchemy import Engine

from monitor import __version__
from monitor.alerts.filters import snippets, web_url
from monitor.models import Hit
from monitor.profiles.files import current_profiles
from monitor.profiles.normalize import printable
from monitor.store.hits import HitFilter, page_of_hits
from monitor.web.queries import HitQuery, Hits, hits_page

ATOM = "http://www.w3.org/2005/Atom"
AUTHORITY = "tag:governance-monitor.invalid,2026:"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
GENERATOR = "Governance-news monitor"
NOTHING_YET = datetime(1970, 1, 1, tzinfo=UTC)  # `updated` of a feed with no hit: stable
_XML_FORBIDDEN = re.compile("[\ud800-\udfff\ufffe\uffff]")  # beyond the controls printable drops
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

router = APIRouter(prefix="/feeds")


@router.get("/hits.atom", summary="Stored hits of every profile as an Atom feed")
def all_hits(request: Request, query: Hits) -> Response:
    return _answer(request, query, "hits", "Governance-news monitor: hits")


@router.get("/profiles/{name}.atom", summary="Stored hits of one profile as an Atom feed")
def profile_hits(request: Request, name: str, query: Hits) -> Response:
    """The hits of profile NAME (a `profile` parameter is overridden by it)."""
    one = replace(query, where=replace(query.where, profile=name))
    title = f"Governance-news monitor: hits for {name}"
    return _answer(request, one, f"profiles/{quote(name, safe='')}", title)


def _answer(request: Request, query: HitQuery, path: str, title: str) -> Response:
    """The feed document, or 304 when the client's copy is current."""
    engine: Engine = request.app.state.engine
    where, q = query.where, query.q
    hits, _ = hits_page(request, where, q, query.limit, query.after)
    if not hits and where.profile is not None and not _known(request, engine, where.profile):
        raise HTTPException(404, f"no profile {where.profile}")
    body = _document(hits, _feed_id(path, where, q), _titled(title, where, q), str(request.url))
    headers = {
        "ETag": f'"{hashlib.sha256(body).hexdigest()[:32]}"',
        "Cache-Control": "private, no-cache",  # behind a token: no shared cache; revalidate
    }
    newest = _utc(hits[0].created_at) if hits else None
    if newest is not None:
        headers["Last-Modified"] = format_datetime(newest, usegmt=True)
    if _still_current(request, headers["ETag"], newest):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA_TYPE, headers=headers)


def _known(request: Request, engine: Engine, profile: str) -> bool:
    """The profile is configured, or has hits of its own (filters aside)."""
    if page_of_hits(engine, HitFilter(profile=profile), 1):
        return True
    return profile in {p.name for p in current_profiles(request.app.state.config_dir)}


def _still_current(request: Request, etag: str, newest: datetime | None) -> bool:
    """RFC 9110 §13.1: If-None-Match decides when present (weak comparison); otherwise
    If-Modified-Since, to the second HTTP dates have."""
    tags = request.headers.get("if-none-match")
    if tags is not None:
        given = {tag.strip().removeprefix("W/") for tag in tags.split(",")}
        return "*" in given or etag in given
    since = request.headers.get("if-modified-since")
    if since is None or newest is None:
        return False
    try:
        client = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False  # not an HTTP date: ignored, as the RFC says
    return client.tzinfo is not None and newest.replace(microsecond=0) <= client


def _feed_id(path: str, where: HitFilter, q: str | None) -> str:
    """The feed's tag URI: its path and filters (not the host, not the page size)."""
    query = urlencode(_filters(where, q), quote_via=quote)
    return f"{AUTHORITY}feed/{path}" + (f"?{query}" if query else "")


def _filters(where: HitFilter, q: str | None) -> list[tuple[str, str]]:
    given = {
        "q": q or None,
        "feed": where.feed,
        "language": where.language,
        "since": where.since.isoformat() if where.since else None,
        "until": where.until.isoformat() if where.until else None,
        "story": str(where.story) if where.story is not None else None,
    }
    return [(key, value) for key, value in given.items() if value is not None]


def _titled(title: str, where: HitFilter, q: str | None) -> str:
    narrowed = ", ".join(f"{key} {value}" for key, value in _filters(where, q))
    return f"{title} ({narrowed})" if narrowed else title


def hit_id(hit: Hit) -> str:
    """The entry id of a hit: its profile and a hash of its article's link (module doc)."""
    digest = hashlib.sha256(hit.url.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{AUTHORITY}hit/{quote(hit.profile, safe='')}/{digest}"


def _document(hits: list[Hit], feed_id: str, title: str, self_url: str) -> bytes:
    # Atom as the default namespace (lxml-stubs forbid the None key that lxml documents)
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})  # type: ignore[dict-item]
    _add(feed, "id", feed_id)
    _add(feed, "title", _text(title), type="text")  # the filters are anyone's text too
    _add(feed, "updated", _when(hits[0].created_at if hits else NOTHING_YET))
    _add(feed, "link", rel="self", type="application/atom+xml", href=_text(self_url))
    _add(_add(feed, "author"), "name", GENERATOR)
    _add(feed, "generator", GENERATOR, version=__version__)
    seen: set[str] = set()
    for hit in hits:  # newest first: of two hits with one id, the newer stays
        entry_id = hit_id(hit)
        if entry_id not in seen:
            seen.add(entry_id)
            _entry(feed, hit, entry_id)
    return etree.tostring(feed, encoding="utf-8", xml_declaration=True, pretty_print=True)


def _entry(feed: etree._Element, hit: Hit, entry_id: str) -> None:
    entry = _add(feed, "entry")
    if hit.language and _LANGUAGE_TAG.fullmatch(hit.language):
        entry.set(_XML_LANG, hit.language)
    _add(entry, "id", entry_id)
    _add(entry, "title", _text(hit.title) or _text(hit.url), type="text")
    _add(entry, "updated", _when(hit.created_at))
    if hit.published_at is not None:
        _add(entry, "published", _when(hit.published_at))
    link = _text(web_url(hit.url))
    if link:
        _add(entry, "link", rel="alternate", type="text/html", href=link)
    _add(entry, "summary", _summary(hit), type="text")
    if not link:  # RFC 4287 §4.1.2: an entry without an alternate link needs content
        _add(entry, "content", _summary(hit), type="text")
    _add(_add(entry, "source"), "title", _text(hit.feed), type="text")
    _add(entry, "category", term=_text(hit.profile), scheme=f"{AUTHORITY}profile")
    if hit.language:
        _add(entry, "category", term=_text(hit.language), scheme=f"{AUTHORITY}language")


def _summary(hit: Hit) -> str:
    """The snippets (matches marked **so**), the matched terms and, when the page was not
    used, why: plain text."""
    parts = [_text(snippet) for snippet in snippets(hit)]
    parts.append("Matched: " + ", ".join(_text(term) for term in hit.matched_terms))
    if hit.matched_on == "entry":
        parts.append("Matched on the feed entry's own text" + (f": {hit.note}" if hit.note else ""))
    return _text("\n\n".join(parts))


def _add(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    child = etree.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        child.text = text
    return child


def _text(value: str) -> str:
    """Feed text as XML may carry it: no control or direction characters, no surrogates or
    the noncharacters U+FFFE and U+FFFF."""
    return _XML_FORBIDDEN.sub("", printable(value))


def _when(moment: datetime) -> str:
    return _utc(moment).isoformat(timespec="seconds").replace("+00:00", "Z")


def _utc(moment: datetime) -> datetime:
    """In UTC (a naive time from the database is UTC already)."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
