"""Canonical URLs: one spelling per article, so the same story via two feeds is fetched once."""

from __future__ import annotations

from urllib.parse import urldefrag, urljoin, urlsplit

from courlan import normalize_url
from url_normalize import url_normalize


def canonical_url(url: str) -> str:
    """Lower-case host, default port and tracking parameters (utm_*, fbclid …) dropped, query
    sorted, dot-segments resolved, IDN in punycode, fragment removed."""
    try:
        cleaned = url_normalize(normalize_url(url)) or url
    except (ValueError, TypeError):
        cleaned = url
    return urldefrag(cleaned)[0]


def absolute_link(base: str, link: str | None) -> str | None:
    """An entry link made absolute against its feed's URL; None unless it is http(s)."""
    if not link or not link.strip():
        return None
    joined = urljoin(base, link.strip())
    return joined if urlsplit(joined).scheme in ("http", "https") else None
