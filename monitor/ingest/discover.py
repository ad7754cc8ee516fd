"""Feed autodiscovery: the feeds a web page announces with <link rel="alternate" type=…>."""

from __future__ import annotations

from urllib.parse import urljoin

import lxml.html
from lxml.etree import LxmlError

from monitor.ingest.urls import absolute_link

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/rdf+xml",  # RSS 1.0
    }
)


def discover_feeds(html: bytes, base_url: str) -> list[str]:
    """Absolute http(s) URLs of the feeds `html` links to, in page order, without repeats.

    Relative hrefs are resolved against the page's <base href> if any, else `base_url`.
    An empty or unreadable page has none.
    """
    try:
        root = lxml.html.document_fromstring(html)
    except (LxmlError, ValueError):
        return []
    base = base_url
    for element in root.iter("base"):
        href = (element.get("href") or "").strip()
        if href:
            base = urljoin(base_url, href)
            break
    found: list[str] = []
    for element in root.iter("link"):
        rel = (element.get("rel") or "").lower().split()
        kind = (element.get("type") or "").partition(";")[0].strip().lower()
        if "alternate" not in rel or kind not in FEED_TYPES:
            continue
        url = absolute_link(base, element.get("href"))
        if url is not None and url not in found:
            found.append(url)
    return found
