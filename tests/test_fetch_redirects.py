"""Where a configured URL's redirects may go: anywhere within its own origin (scheme, host and
port), even a loopback one; to another origin only as a feed's links may (public addresses and
fetch.allow_networks), checked on literals before connecting and on names after DNS."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from yarl import URL

from monitor.config.settings import FetchSettings
from monitor.errors import FetchBlocked, FetchError
from monitor.ingest.fetch import Fetcher, Response
from tests.hostile import FakeDNS, HostileServer

FAST = FetchSettings(connect_timeout=2, read_timeout=2, timeout=3, max_bytes=1_000_000)
FEED_HOST = "news.example"  # a public-looking name the operator configured
# what the fake DNS answers; every server in these tests listens on 127.0.0.1
NAMES = {
    FEED_HOST: ["127.0.0.1"],
    "metadata.example": ["169.254.169.254"],
    "intranet.example": ["10.1.2.3"],
    "loopback.example": ["127.0.0.1", "::1"],
}
CONFIGURED = "a configured URL may redirect there only within its own origin"
LINKS = "a feed's links may not go there"


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


@pytest.fixture
def other() -> Iterator[HostileServer]:  # another port on the same (internal) host
    with HostileServer() as server:
        yield server


def fetch(url: str, settings: FetchSettings = FAST, **kw: Any) -> Response | FetchError:
    """The outcome of one fetch through the fake DNS (kw: origin, etag, ...)."""

    async def go() -> Response | FetchError:
        async with Fetcher(settings, resolver=FakeDNS(NAMES)) as fetcher:
            try:
                return await fetcher.get(url, **kw)
            except FetchError as exc:
                return exc

    return asyncio.run(go())


def blocked(url: str, hop: str, says: str, settings: FetchSettings = FAST, **kw: Any) -> str:
    """Fetch `url`, check the policy refused it (not a failed connection) at the hop to `hop`;
    the error's message."""
    error = fetch(url, settings, **kw)
    assert isinstance(error, FetchBlocked), error
    assert error.category == "blocked_address" and error.url == url, error
    shown = URL(hop)  # as the message spells it (yarl writes IPv6 addresses compressed)
    assert f"redirected to {shown}: " in str(error) and says in str(error), error
    return str(error)


def redirect(server: HostileServer, target: str, host: str = "127.0.0.1") -> str:
    """A URL on `server` (reached as `host`) that answers 302 Location: `target`."""
    return server.url("/to?target=" + quote(target, safe=""), host=host)


def test_a_configured_feed_may_not_redirect_to_an_internal_address(
    hostile: HostileServer, other: HostileServer
) -> None:
    internal = [
        other.url("/ok"),  # another port on the host the feed resolves to
        hostile.url("/ok"),  # the very same server, under another host: another origin
        f"http://[::1]:{hostile.port}/ok",
        f"http://[::ffff:127.0.0.1]:{hostile.port}/ok",
        f"http://2130706433:{hostile.port}/ok",  # 127.0.0.1 in another spelling
        "http://169.254.169.254/latest/meta-data/iam/",  # cloud metadata
        "http://10.0.0.1/admin",
        "http://192.168.1.1/",
    ]
    for target in internal:
        feed = redirect(hostile, target, host=FEED_HOST)
        blocked(feed, target, CONFIGURED)
    assert all(r.startswith("/to?") for r in hostile.requests), hostile.requests
    assert other.requests == []  # refused before any connection


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("metadata.example", "address 169.254.169.254 is link-local"),
        ("intranet.example", "address 10.1.2.3 is private"),
        ("loopback.example", "address 127.0.0.1 is loopback; address ::1 is loopback"),
        (FEED_HOST, "address 127.0.0.1 is loopback"),  # resolved again: a name is not trusted
    ],
)
def test_redirect_to_a_name_is_checked_after_dns(
    hostile: HostileServer, other: HostileServer, name: str, says: str
) -> None:
    target = f"http://{name}:{other.port}/ok"
    message = blocked(redirect(hostile, target, host=FEED_HOST), target, CONFIGURED)
    assert f"{name} resolves only to refused addresses ({says})" in message
    assert other.requests == []


def test_the_configured_origin_is_scheme_host_and_port(
    hostile: HostileServer, other: HostileServer
) -> None:
    home = f"http://{FEED_HOST}:{hostile.port}"
    for target in (f"https://{FEED_HOST}:{hostile.port}/ok", f"http://{FEED_HOST}:{other.port}/ok"):
        blocked(redirect(hostile, target, host=FEED_HOST), target, CONFIGURED)
    assert other.requests == [] and "/ok" not in hostile.requests
    arrived = fetch(redirect(hostile, f"{home}/ok", host=FEED_HOST))  # the same origin
    assert isinstance(arrived, Response) and arrived.url == f"{home}/ok"


def test_a_loopback_feed_redirects_within_its_origin_but_not_beyond(
    hostile: HostileServer, other: HostileServer
) -> None:
    # a feed the operator runs on this machine: relative and absolute hops within its origin
    for target, end in [("/ok", "/ok"), ("/chain/3", "/chain/0"), (hostile.url("/ok"), "/ok")]:
        arrived = fetch(redirect(hostile, target))
        assert isinstance(arrived, Response) and arrived.url == hostile.url(end), arrived
    # two hops within the origin, then one to another port of the same host
    blocked(redirect(hostile, redirect(hostile, other.url("/ok"))), other.url("/ok"), CONFIGURED)
    assert other.requests == []


def test_allow_networks_opens_redirect_targets(
    hostile: HostileServer, other: HostileServer
) -> None:
    opened = FAST.model_copy(update={"allow_networks": (ipaddress.ip_network("127.0.0.0/8"),)})
    feed_of = {  # a redirect target → the configured URL that redirects there
        target: redirect(hostile, target, host=FEED_HOST)
        for target in (other.url("/ok"), f"http://{FEED_HOST}:{other.port}/ok")
    }
    for target, feed in feed_of.items():  # an address, and a name resolved to one
        blocked(feed, target, CONFIGURED)
        arrived = fetch(feed, opened)
        assert isinstance(arrived, Response) and arrived.url == target, arrived
    assert other.requests == ["/ok", "/ok"]
    ipv6 = f"http://[::1]:{other.port}/ok"  # outside the opened network
    blocked(redirect(hostile, ipv6, host=FEED_HOST), ipv6, "address ::1 is loopback", opened)
    assert other.requests == ["/ok", "/ok"]


def test_links_from_feeds_keep_the_feeds_origin(
    hostile: HostileServer, other: HostileServer
) -> None:
    """Unchanged for links: the trusted origin is the feed's, never the link's own."""
    feed = hostile.url("/feed.xml")
    back_home = fetch(redirect(hostile, "/ok"), origin=feed)
    assert isinstance(back_home, Response) and back_home.url == hostile.url("/ok")
    blocked(redirect(hostile, other.url("/ok")), other.url("/ok"), LINKS, origin=feed)
    # a link on another (internal) origin is refused at once, not trusted as its own origin
    link = other.url("/ok", host=FEED_HOST)
    error = fetch(link, origin=feed)
    assert isinstance(error, FetchBlocked) and error.category == "blocked_address", error
    assert LINKS in str(error) and "redirected to" not in str(error)
    assert other.requests == []
