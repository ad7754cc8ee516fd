"""The fetcher against a hostile server (tests/hostile.py): every misbehaviour ends in the right
exception and category (its reason naming the deadline or cap that stopped it), in bounded
memory, without reaching an address the policy refuses."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import tracemalloc
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from monitor.config.settings import FetchSettings
from monitor.errors import FetchBlocked, FetchError, FetchStatus, FetchTimeout, FetchTooLarge
from monitor.ingest.addresses import AddressBlocked, AddressPolicy, GuardedResolver
from monitor.ingest.fetch import Fetcher, Response, retry_after
from tests.hostile import FakeDNS, HostileServer, gzip_bomb

Outcome = Response | FetchError
FAST = FetchSettings(connect_timeout=2, read_timeout=2, timeout=3, max_bytes=1_000_000)


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


@pytest.fixture
def other() -> Iterator[HostileServer]:  # "another port on localhost"
    with HostileServer() as server:
        yield server


def fetch(url: str, settings: FetchSettings = FAST, **kw: Any) -> Outcome:
    """The outcome of one fetch (kw: origin, dns). Which deadline or cap stopped a fetch is in
    its error's reason; pytest-timeout fails a fetch that would hang."""

    async def go() -> Outcome:
        async with Fetcher(settings, resolver=kw.pop("dns", None)) as fetcher:
            try:
                return await fetcher.get(url, **kw)
            except FetchError as exc:
                return exc

    return asyncio.run(go())


def refused(
    kind: type[FetchError], category: str, url: str, settings: FetchSettings = FAST, **kw: Any
) -> FetchError:
    """Fetch `url`, check it failed as `kind` with `category`; the error."""
    result = fetch(url, settings, **kw)
    assert isinstance(result, kind) and result.category == category and result.url == url, result
    return result


def redirect(server: HostileServer, target: str) -> str:
    return server.url("/to?target=" + quote(target, safe=""))


# Deadlines ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/drip-body", "/drip-head", "/to?target=/drip-body"])
@pytest.mark.slow
def test_slow_drip_is_cut_at_the_total_deadline(hostile: HostileServer, path: str) -> None:
    # a byte every 0.25 s never trips the 5 s read timeout; the 1.5 s total deadline must
    settings = FetchSettings(read_timeout=5, timeout=1.5)
    error = refused(FetchTimeout, "timeout", hostile.url(path), settings)
    assert "no complete answer within 1.5 s" in str(error)


def test_silent_server_trips_the_read_timeout(hostile: HostileServer) -> None:
    settings = FetchSettings(read_timeout=0.5, timeout=10)
    error = refused(FetchTimeout, "timeout", hostile.url("/silent"), settings)
    assert "no bytes received for 0.5 s" in str(error)


# Byte caps ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/endless", "/endless-chunked"])
def test_endless_body_stops_at_the_cap(hostile: HostileServer, path: str) -> None:
    error = refused(FetchTooLarge, "too_large", hostile.url(path))
    assert "limit of 1000000 bytes" in str(error)


def test_declared_length_over_the_cap_is_refused_unread(hostile: HostileServer) -> None:
    error = refused(FetchTooLarge, "too_large", hostile.url("/declares-huge"))
    assert "declares 101010101010 bytes, limit 1000000" in str(error)


def test_gzip_bomb_is_refused_without_being_inflated(hostile: HostileServer) -> None:
    gzip_bomb()  # built before measuring: 1 GiB of zeros in about 1 MiB
    settings = FetchSettings(timeout=10)  # the default cap of 10 MiB
    tracemalloc.start()
    try:
        error = refused(FetchTooLarge, "too_large", hostile.url("/bomb"), settings)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "limit of 10485760 bytes once decompressed (gzip)" in str(error)
    assert peak < 50 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB"


def test_gzip_body_is_inflated(hostile: HostileServer) -> None:
    page = fetch(hostile.url("/gzip"))
    assert isinstance(page, Response) and page.body.startswith(b"<html>")


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/bad-gzip", "body is not valid gzip"),
        ("/brotli", "unsupported Content-Encoding 'br'"),
        ("/short-body", "received 9 of 1000 bytes"),  # declares more than it sends
        ("/long-body", "Data after `Connection: close`"),  # sends more than it declares
        ("/malformed", "Bad status line"),
        ("/garbage", "Bad status line"),
    ],
)
def test_malformed_answers_are_protocol_errors(
    hostile: HostileServer, path: str, says: str
) -> None:
    error = refused(FetchError, "protocol", hostile.url(path))
    assert says in str(error)
    assert len(str(error)) < 400  # a readable message, not a dump of the body


# Redirects ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/loop-a", "redirect loop: {url}/loop-a → {url}/loop-b → {url}/loop-a"),
        ("/chain/6", "more than 5 redirects (next: {url}/chain/0)"),
        ("/no-location", "HTTP 302 with an unusable Location ''"),
    ],
)
def test_redirect_failures(hostile: HostileServer, path: str, says: str) -> None:
    error = refused(FetchError, "redirect", hostile.url(path))
    assert says.format(url=hostile.url("")) in str(error)
    assert len(hostile.requests) == len(set(hostile.requests)) <= 6  # nothing fetched twice


def test_redirects_within_the_limit_are_followed(hostile: HostileServer) -> None:
    arrived = fetch(hostile.url("/chain/5"))
    assert isinstance(arrived, Response) and arrived.url == hostile.url("/chain/0")


@pytest.mark.parametrize("target", ["file:///etc/passwd", "javascript:alert(1)"])
@pytest.mark.parametrize("trusted", [True, False])
def test_redirect_to_another_scheme_is_refused(
    hostile: HostileServer, target: str, trusted: bool
) -> None:
    origin = None if trusted else hostile.url("/feed.xml")
    error = refused(FetchBlocked, "bad_scheme", redirect(hostile, target), origin=origin)
    assert f"redirected to {target}" in str(error)


@pytest.mark.parametrize(
    "link",
    ["javascript:alert(1)", "data:text/html,<b>hi</b>", "file:///etc/passwd", "ftp://ftp.example/",
     "mailto:someone@example.org", "http:///no-host"],
)  # fmt: skip
def test_links_with_other_schemes_are_refused(link: str) -> None:
    error = refused(FetchBlocked, "bad_scheme", link, origin="https://feed.example/rss")
    assert "only http and https" in str(error) or "names no host" in str(error)


# The address policy ------------------------------------------------------------------------

REFUSED_TARGETS = [
    "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://172.16.0.1/",
    "http://192.168.1.1/", "http://100.64.0.1/", "http://0.0.0.0:{port}/ok",
    "http://[::1]:{port}/ok", "http://[fc00::1]/", "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]:{port}/ok", "http://[::ffff:10.1.2.3]/",  # IPv4-mapped
    "http://[2002:7f00:1::]/", "http://[64:ff9b::a00:1]/",  # 6to4 and NAT64 around an IPv4
    "http://2130706433:{port}/ok", "http://0x7f000001:{port}/ok", "http://127.1:{port}/ok",
    "http://224.0.0.1/", "http://240.0.0.1/",  # multicast, reserved
    "http://localhost:{port}/ok",  # a name: refused after resolution, at connect time
]  # fmt: skip


@pytest.mark.parametrize("via", ["link", "redirect"])
@pytest.mark.parametrize("target", REFUSED_TARGETS)
def test_feed_links_may_not_reach_internal_addresses(
    hostile: HostileServer, target: str, via: str
) -> None:
    url = target.format(port=hostile.port)
    asked = url if via == "link" else redirect(hostile, url)
    error = refused(FetchBlocked, "blocked_address", asked, origin=hostile.url("/feed.xml"))
    assert "a feed's links may not go there" in str(error)
    assert (via == "redirect") == ("redirected to" in str(error))
    assert "/ok" not in hostile.requests  # no connection reached the target


def test_same_origin_is_allowed_and_another_port_is_not(
    hostile: HostileServer, other: HostileServer
) -> None:
    feed = hostile.url("/feed.xml")
    page = fetch(hostile.url("/ok"), origin=feed)
    assert isinstance(page, Response) and page.status == 200
    back = fetch(redirect(hostile, "/ok"), origin=feed)  # a hop back to the feed's origin
    assert isinstance(back, Response) and back.url == hostile.url("/ok")
    error = refused(FetchBlocked, "blocked_address", other.url("/ok"), origin=feed)
    assert "address 127.0.0.1 is loopback" in str(error)
    assert other.requests == []
    # origin=None (the user's own URL): only its origin is trusted, not where it redirects
    refused(FetchBlocked, "blocked_address", redirect(hostile, other.url("/ok")))
    assert other.requests == []  # (tests/test_fetch_redirects.py has the rest of this rule)


def test_allow_networks_opens_a_network(hostile: HostileServer, other: HostileServer) -> None:
    settings = FAST.model_copy(update={"allow_networks": (ipaddress.ip_network("127.0.0.0/8"),)})
    feed = hostile.url("/feed.xml")
    for host in ("127.0.0.1", "localhost"):  # an address, and a name resolved to one
        page = fetch(other.url("/ok", host=host), settings, origin=feed)
        assert isinstance(page, Response)
    assert other.requests == ["/ok", "/ok"]


def test_names_are_checked_on_the_address_actually_connected_to(hostile: HostileServer) -> None:
    dns = FakeDNS({"sneaky.test": ["127.0.0.1"]})
    link = f"http://sneaky.test:{hostile.port}/ok"
    feed = "https://feed.example/rss"
    error = refused(FetchBlocked, "blocked_address", link, origin=feed, dns=dns)
    assert "sneaky.test resolves only to refused addresses (address 127.0.0.1 is" in str(error)
    assert hostile.requests == []
    opened = FAST.model_copy(update={"allow_networks": (ipaddress.ip_network("127.0.0.1/32"),)})
    page = fetch(link, opened, origin=feed, dns=dns)
    assert isinstance(page, Response) and hostile.requests == ["/ok"]


def test_guarded_resolver_keeps_only_allowed_addresses() -> None:
    public = ["93.184.215.14", "2606:4700::1"]
    dns = FakeDNS({"mixed.test": [*public, "10.0.0.1", "::1"], "inside.test": ["10.0.0.1"]})
    guarded = GuardedResolver(AddressPolicy(), dns)
    kept = asyncio.run(guarded.resolve("mixed.test", 80))
    assert [r["host"] for r in kept] == public
    with pytest.raises(AddressBlocked, match=r"address 10\.0\.0\.1 is private"):
        asyncio.run(guarded.resolve("inside.test", 80))


# Statuses, Retry-After, connection failures ------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("0", 0.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("soon", None), ("", None), ("-5", None)],
)
def test_retry_after_parsing(value: str, seconds: float | None) -> None:
    assert retry_after(CIMultiDictProxy(CIMultiDict({"Retry-After": value}))) == seconds


@pytest.mark.parametrize(
    ("path", "status", "category", "wait"),
    [
        ("/retry-seconds", 429, "http_4xx", 120.0),  # Retry-After: 120
        ("/retry-date", 503, "http_5xx", 90.0),  # Retry-After: an HTTP-date 90 s after Date
        ("/gone", 410, "gone", None),
        ("/not-found", 404, "http_4xx", None),
        ("/broken", 500, "http_5xx", None),
    ],
)
def test_statuses_and_retry_after(
    hostile: HostileServer, path: str, status: int, category: str, wait: float | None
) -> None:
    error = refused(FetchStatus, category, hostile.url(path))
    assert isinstance(error, FetchStatus) and error.status == status and error.retry_after == wait
    assert ("retry after" in str(error)) == (wait is not None)


def test_connection_failures(hostile: HostileServer) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    refused(FetchError, "connect", f"http://127.0.0.1:{port}/")
    refused(FetchError, "connect", hostile.url("/hangup"))
    error = refused(FetchError, "tls", f"https://127.0.0.1:{hostile.port}/ok")
    assert "WRONG_VERSION_NUMBER" in str(error)
    error = refused(FetchError, "dns", "http://nowhere.test/", dns=FakeDNS({}))
    assert "DNS lookup failed" in str(error)
