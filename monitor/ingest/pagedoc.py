"""One page fetched and read for a person trying a profile (`profiles test --url`, `profiles
derive URL`, the editor's test panel, a missed article added by URL): fetched as a feed's
pages are (the same limits and address rules), its article text extracted in this process."""

from __future__ import annotations

from monitor.config.settings import FetchSettings
from monitor.ingest.fetch import Fetcher
from monitor.ingest.language import detect_language
from monitor.profiles.profile import Doc


class NoArticle(ValueError):
    """The page holds no article text."""


async def download(fetch: FetchSettings, url: str) -> bytes:
    """The page's body; FetchError when it cannot be had."""
    async with Fetcher(fetch) as fetcher:
        return (await fetcher.get(url)).body


def page_doc(html: bytes, url: str, title: str = "") -> Doc:
    """The page's article as a document to match (`title` when given, else the page's own);
    NoArticle when there is none."""
    # imported here: the commands that never read a page need not load trafilatura
    from monitor.ingest.worker import extract_page  # noqa: PLC0415

    extracted = extract_page(html, url)
    if extracted is None:
        raise NoArticle(f"{url}: no article text found on the page")
    return Doc(
        title=title or extracted.title or "",
        text=extracted.text,
        url=url,
        source=extracted.sitename or "",
        language=extracted.language or detect_language(extracted.text),
    )
