"""Large feed documents lose their known items before feedparser reads them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from monitor.ingest.prune import prune_known
from monitor.pipeline.newentries import LARGE_FEED_BYTES
from monitor.runtime.lifecycle import run_once
from monitor.runtime.service import Service
from tests.conftest import open_database
from tests.documents import feed_document

ATOM = "http://www.w3.org/2005/Atom"


def rss(guids: list[str | None], pad: int = 0) -> bytes:
    items = "".join(
        f"<item><title>Item {n}</title>{f'<guid> {g} </guid>' if g else ''}"
        f"<description>{'x' * pad}</description></item>"
        for n, g in enumerate(guids)
    )
    head = '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    return f"{head}{items}</channel></rss>".encode()


def test_known_rss_items_are_dropped_others_kept() -> None:
    body = rss(["a", "b", None, "c"])
    pruned, kind, dropped = prune_known(body, "application/rss+xml", {"a", "c", "Item 2"})
    assert dropped == 2
    titles = [e.title for e in feed_document(pruned, "https://e.example/feed", kind).entries]
    assert titles == ["Item 1", "Item 2"]  # an item without a GUID is never dropped


def test_known_atom_entries_are_dropped() -> None:
    body = (
        f'<feed xmlns="{ATOM}"><title>T</title>'
        "<entry><id>urn:1</id><title>One</title></entry>"
        "<entry><id>urn:2</id><title>Two</title></entry></feed>"
    ).encode("utf-16")
    pruned, kind, dropped = prune_known(body, "application/atom+xml", {"urn:1"})
    assert dropped == 1
    assert [e.guid for e in feed_document(pruned, "https://e.example/atom", kind).entries] == [
        "urn:2"
    ]


def test_unreadable_or_unknown_documents_are_left_alone() -> None:
    broken = b"<rss><channel><item><guid>a</guid></item>"
    assert prune_known(broken, "", {"a"}) == (broken, "", 0)
    body = rss(["a"])
    assert prune_known(body, "text/xml", {"z"}) == (body, "text/xml", 0)
    assert prune_known(body, "text/xml", set()) == (body, "text/xml", 0)


@pytest.mark.slow
def test_a_large_feed_with_one_new_item(
    sqlite_url: str, config_dir: Path, httpserver: HTTPServer
) -> None:
    guids: list[str | None] = [f"g{n}" for n in range(300)]
    pad = LARGE_FEED_BYTES // 250
    documents = [rss(guids, pad)]
    assert len(documents[0]) > LARGE_FEED_BYTES
    httpserver.expect_request("/big.xml").respond_with_handler(
        lambda _request: Response(documents[-1], content_type="application/rss+xml")
    )
    (config_dir / "feeds.yaml").write_text(f"feeds:\n  - url: {httpserver.url_for('/big.xml')}\n")
    (config_dir / "monitor.yaml").write_text("extract:\n  workers: 1\n")
    settings, engine = open_database(config_dir, sqlite_url)
    service = Service(config_dir, settings, engine)

    first = asyncio.run(run_once(service))
    assert first.entries_new == 300
    documents.append(rss(["new", *guids], pad))
    second = asyncio.run(run_once(service, everything=True))
    assert second.entries_new == 1
    assert second.feeds_failed == 0
    engine.dispose()
