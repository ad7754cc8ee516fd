"""One whole cycle over hostile feeds served beside well-formed ones: it ends within a stated
bound, keeps memory bounded, records a precise health status for every feed, and still stores
the hits of the good feeds."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from monitor.runtime.lifecycle import run_once
from monitor.runtime.service import Service
from monitor.store.feeds import feed_health
from monitor.store.hits import query_hits
from tests.conftest import open_database
from tests.hostile import HostileServer
from tests.newsroom import serve_newsroom

pytestmark = pytest.mark.slow  # processes, servers or whole cycles: `make test-quick` skips it

MEMORY_BOUND_MB = 150  # Python allocations incl. the language model (~80 MB); measured 107

# hostile route → (status, error category) the feed must end with
EXPECTED = {
    "/drip-body": ("failing", "timeout"),
    "/silent": ("failing", "timeout"),
    "/endless": ("failing", "too_large"),
    "/bomb": ("failing", "too_large"),
    "/loop-a": ("failing", "redirect"),
    "/to?target=file:///etc/passwd": ("failing", "bad_scheme"),
    "/retry-seconds": ("failing", "http_4xx"),
    "/retry-date": ("failing", "http_5xx"),
    "/not-found": ("failing", "http_4xx"),
    "/broken": ("failing", "http_5xx"),
    "/malformed": ("failing", "protocol"),
    "/garbage": ("failing", "protocol"),
    "/gone": ("gone", "gone"),
    "/ok": ("failing", "not_a_feed"),  # an HTML page without a feed link
}
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8)
    )
    + b']><rss version="2.0"><channel><title>&i;</title><item><title>Laughs</title>'
    b"<guid>1</guid></item></channel></rss>"
)


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


def test_one_cycle_over_hostile_feeds(
    sqlite_url: str, config_dir: Path, httpserver: HTTPServer, hostile: HostileServer
) -> None:
    site = serve_newsroom(httpserver)
    httpserver.expect_request("/laughs.xml").respond_with_data(
        BILLION_LAUGHS, content_type="text/xml"
    )
    httpserver.expect_request("/hostile-links.xml").respond_with_data(
        '<rss version="2.0"><channel><title>Links</title>'
        + "".join(
            f"<item><title>Great Firewall story {n}</title><link>{hostile.url(path)}</link>"
            f"<guid>{n}</guid><description>The Great Firewall blocks more sites.</description>"
            "</item>"
            for n, path in enumerate(["/bomb", "/drip-body", "/endless", "/garbage"])
        )
        + "</channel></rss>",
        content_type="application/rss+xml",
    )
    feeds = [hostile.url(path) for path in EXPECTED] + [
        site.en_feed,
        site.zh_feed,
        httpserver.url_for("/laughs.xml"),
        httpserver.url_for("/hostile-links.xml"),
    ]
    (config_dir / "feeds.yaml").write_text("feeds:\n" + "".join(f"  - url: '{u}'\n" for u in feeds))
    (config_dir / "monitor.yaml").write_text(
        "fetch:\n  timeout: 1.5\n  read_timeout: 0.5\n  connect_timeout: 0.5\n"
        "  max_bytes: 2000000\n  allow_networks: [127.0.0.0/8]\nextract:\n  workers: 1\n"
    )
    settings, engine = open_database(config_dir, sqlite_url)
    service = Service(config_dir, settings, engine)

    tracemalloc.start()
    report = asyncio.run(run_once(service))  # a hang fails it at the per-test timeout
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(f"hostile cycle: Python memory peak {peak / 2**20:.0f} MiB")
    assert peak < MEMORY_BOUND_MB * 1024 * 1024
    assert report.feeds_polled == len(feeds)
    health = {h.url: h for h in feed_health(engine)}
    for path, (status, category) in EXPECTED.items():
        feed = health[hostile.url(path)]
        assert (feed.status, feed.error_category) == (status, category), (path, feed.error)
        assert feed.error and hostile.url(path).split("?")[0] in feed.error
    for good in (site.en_feed, site.zh_feed, httpserver.url_for("/laughs.xml")):
        assert health[good].status == "ok", health[good].error
    assert health[httpserver.url_for("/hostile-links.xml")].status == "ok"
    hits = query_hits(engine)
    assert {"great_firewall", "china_cyber_regulator"} <= {
        h.profile for h in hits if h.url == site.zh_url
    }
    hostile_links = [h for h in hits if h.url.startswith(hostile.url("/"))]
    assert len({h.url for h in hostile_links}) == 4  # matched on their entries' own text …
    assert all(h.matched_on == "entry" for h in hostile_links)  # … and saying so
    laughs = next(h for h in feed_health(engine) if h.url.endswith("/laughs.xml"))
    assert laughs.status == "ok"
    engine.dispose()
