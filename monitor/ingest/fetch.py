"""All HTTP the monitor does: aiohttp sessions with deadlines, byte caps (as sent and decompressed),
redirects followed hop by hop, the address policy outside the trusted origin, conditional GET."""

from __future__ import annotations

import asyncio
import ssl
import textwrap
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType

import aiohttp
from aiohttp.abc import AbstractResolver
from multidict import CIMultiDictProxy
from yarl import URL

from monitor.config.settings import FetchSettings
from monitor.errors import FetchBlocked, FetchError, FetchStatus, FetchTimeout, FetchTooLarge
from monitor.errors import FetchCategory as Category
from monitor.ingest.addresses import AddressBlocked, AddressPolicy, GuardedResolver, Route, parse
from monitor.models import Capture

_CHUNK = 64 * 1024  # largest piece read from the socket, and largest piece one inflate yields
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True, slots=True)
class Response:
    """A completed fetch: 2xx with a body, or 304 (not_modified) without one."""

    url: str  # after redirects
    status: int
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    # the exchange as it went, for evidence (monitor.models.Capture)
    headers: tuple[tuple[str, str], ...] = ()  # the response's, as sent
    reason: str = ""
    http_version: str = "1.1"
    request_headers: tuple[tuple[str, str], ...] = ()

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def capture(self, requested: str, fetched_at: datetime) -> Capture:
        """The exchange as evidence keeps it (monitor.models.Capture)."""
        return Capture(
            url=requested,
            final_url=self.url,
            status=self.status,
            reason=self.reason,
            http_version=self.http_version,
            headers=self.headers,
            request_headers=self.request_headers,
            body=self.body,
            fetched_at=fetched_at,
        )


class Fetcher:
    """Fetches URLs with the configured limits; use as an async context manager.

    Two connection pools: a trusted one for the trusted origin (see Route), and a guarded one
    whose resolver drops every address the policy refuses, so what is checked is exactly what
    is connected to. `resolver` is a test seam (DNS)."""

    def __init__(
        self, settings: FetchSettings, *, resolver: AbstractResolver | None = None
    ) -> None:
        self._settings = settings
        self._policy = AddressPolicy(settings.allow_networks)
        self._resolver = resolver
        self._trusted: aiohttp.ClientSession | None = None
        self._guarded: aiohttp.ClientSession | None = None
        self._slots: dict[str, tuple[asyncio.Semaphore, int]] = {}

    async def __aenter__(self) -> Fetcher:
        dns = self._resolver or aiohttp.ThreadedResolver()
        self._trusted = self._session(dns)
        self._guarded = self._session(GuardedResolver(self._policy, dns))
        return self

    def _session(self, resolver: AbstractResolver) -> aiohttp.ClientSession:
        s = self._settings
        return aiohttp.ClientSession(
            # the total deadline is ours (asyncio.timeout_at), spanning every redirect hop
            timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=s.connect_timeout, sock_read=s.read_timeout
            ),
            connector=aiohttp.TCPConnector(
                limit=s.concurrency * 2, limit_per_host=s.per_host, resolver=resolver
            ),
            headers={"User-Agent": s.user_agent, "Accept-Encoding": "gzip"},
            auto_decompress=False,  # we inflate ourselves, in bounded pieces
        )

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for session in (self._trusted, self._guarded):
            if session is not None:
                await session.close()
        self._trusted = self._guarded = None

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        origin: str | None = None,
    ) -> Response:
        """GET `url`; with etag/last_modified a 304 comes back as Response.not_modified.

        origin=None: `url` (a configured feed, a URL from the command line) and its origin are
        trusted; a redirect hop elsewhere may reach only public addresses or fetch.allow_networks.
        origin=<the feed's URL>: `url` came from that feed; it and every redirect hop may reach
        only public addresses, the feed's own origin, or fetch.allow_networks."""
        if self._trusted is None:
            raise RuntimeError("Fetcher used outside `async with`")
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        route = Route(url, origin, self._policy)
        try:
            return await self._follow(route, headers)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise _translate(exc, route, self._settings) from None

    async def _follow(self, route: Route, headers: dict[str, str]) -> Response:
        assert self._trusted is not None and self._guarded is not None
        seen: list[str] = []
        deadline: float | None = None
        target = parse(route.url)
        while True:
            seen.append(str(target))
            session = self._guarded if route.guarded(target) else self._trusted
            loop = asyncio.get_running_loop()
            queued = loop.time()
            async with self._slot(f"{target.raw_host}:{target.port}"):
                # the deadline runs only while a slot is ours: queueing behind our own requests
                # to a busy host (at the first hop or after a redirect) is not the server's
                # slowness
                waited = loop.time() - queued
                deadline = deadline + waited if deadline else loop.time() + self._settings.timeout
                async with asyncio.timeout_at(deadline):
                    answer = await self._exchange(session, target, headers, route)
            if isinstance(answer, Response):
                return answer
            if str(answer) in seen:
                cycle = " → ".join([*seen[seen.index(str(answer)) :], str(answer)])
                raise FetchError(route.url, f"redirect loop: {cycle}", "redirect")
            if len(seen) > self._settings.max_redirects:
                why = f"more than {self._settings.max_redirects} redirects (next: {answer})"
                raise FetchError(route.url, why, "redirect")
            target = route.current = answer

    @asynccontextmanager
    async def _slot(self, host: str) -> AsyncIterator[None]:
        """At most fetch.per_host requests to one host at once; idle hosts are forgotten."""
        gate, users = self._slots.get(host) or (asyncio.Semaphore(self._settings.per_host), 0)
        self._slots[host] = (gate, users + 1)
        try:
            async with gate:
                yield
        finally:
            gate, users = self._slots[host]
            if users == 1:
                del self._slots[host]
            else:
                self._slots[host] = (gate, users - 1)

    async def _exchange(
        self, session: aiohttp.ClientSession, target: URL, headers: dict[str, str], route: Route
    ) -> Response | URL:
        """One request: the Response, or the URL a redirect points to (its body unread)."""
        async with session.get(target, headers=headers, allow_redirects=False) as resp:
            status = resp.status
            if status in _REDIRECTS:
                return _location(resp, route)
            if status == 304:
                return Response(str(target), 304, b"", "", None, None)
            if not 200 <= status < 300:
                wait = retry_after(resp.headers)
                why = f"{route.hop}HTTP status {status} {resp.reason or ''}".rstrip()
                why += "" if wait is None else f", retry after {wait:g} s"
                raise FetchStatus(route.url, status, why, retry_after=wait)
            body, got = await self._body(resp, route), resp.headers.get
            kind, etag, modified = got("Content-Type", ""), got("ETag"), got("Last-Modified")
            return Response(
                str(target),
                status,
                body,
                kind,
                etag,
                modified,
                headers=tuple(
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in resp.raw_headers
                ),
                reason=resp.reason or "",
                http_version=_version(resp),
                request_headers=tuple(resp.request_info.headers.items()),
            )

    async def _body(self, resp: aiohttp.ClientResponse, route: Route) -> bytes:
        """The body, inflated in bounded pieces; refused as soon as either size passes the cap."""
        url, hop, limit = route.url, route.hop, self._settings.max_bytes
        declared = resp.content_length
        if declared is not None and declared > limit:
            raise FetchTooLarge(url, f"{hop}declares {declared} bytes, limit {limit}")
        encoding = resp.headers.get("Content-Encoding", "")
        inflate, body, sent = _Inflater(encoding, route), bytearray(), 0
        async for chunk in resp.content.iter_chunked(_CHUNK):
            sent += len(chunk)
            if sent > limit:
                raise FetchTooLarge(url, f"{hop}sent more than the limit of {limit} bytes")
            for piece in inflate.feed(chunk):
                body += piece
                if len(body) > limit:
                    why = f"body exceeds the limit of {limit} bytes once decompressed ({encoding})"
                    raise FetchTooLarge(url, hop + why)
        return bytes(body)


def _version(resp: aiohttp.ClientResponse) -> str:
    version = resp.version
    return f"{version.major}.{version.minor}" if version else "1.1"


def _location(resp: aiohttp.ClientResponse, route: Route) -> URL:
    """The absolute URL a redirect points to."""
    location = resp.headers.get("Location", "").strip()
    try:
        if location:
            return resp.url.join(URL(location))
    except (TypeError, ValueError):
        pass
    why = f"{route.hop}HTTP {resp.status} with an unusable Location {location!r}"
    raise FetchError(route.url, why, "redirect")


def retry_after(headers: CIMultiDictProxy[str]) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP-date, counted from the
    response's Date when it has one, so a skewed local clock does not matter)."""
    value = headers.get("Retry-After", "").strip()
    if value.isascii() and value.isdigit():
        return float(value)
    when = _http_date(value)
    if when is None:
        return None
    now = _http_date(headers.get("Date", "")) or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def _http_date(value: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


class _Inflater:
    """Content-Encoding gzip (or zlib-wrapped deflate) undone at most _CHUNK bytes per step."""

    _ZLIB = frozenset({"gzip", "x-gzip", "deflate"})
    _OTHER = frozenset({"br", "zstd", "compress", "x-compress"})  # compressions we never ask for
    _KNOWN = _ZLIB | _OTHER

    def __init__(self, encoding: str, route: Route) -> None:
        self._route = route
        # unknown tokens ("utf-8", "none", "binary": seen in the wild) mean no compression
        codings = [c for c in map(str.strip, encoding.lower().split(",")) if c in self._KNOWN]
        if len(codings) > 1 or self._OTHER.intersection(codings):
            why = f"{route.hop}unsupported Content-Encoding {encoding!r} (we ask for gzip)"
            raise FetchError(route.url, why, "protocol")
        self._name = codings[0] if codings else "identity"
        # MAX_WBITS | 32: zlib reads a gzip or a zlib header, whichever the stream has
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 32) if codings else None

    def feed(self, data: bytes) -> Iterator[bytes]:
        """What `data` inflates to, in pieces: a bomb inflates no further than the caller reads."""
        if self._zlib is None:
            yield data
            return
        while True:
            try:
                out = self._zlib.decompress(data, _CHUNK)
            except zlib.error as exc:
                why = f"{self._route.hop}body is not valid {self._name}: {exc}"
                raise FetchError(self._route.url, why, "protocol") from None
            data = self._zlib.unconsumed_tail
            if out:
                yield out
            elif not data:
                return


_KINDS: tuple[tuple[tuple[type[BaseException], ...], Category, str], ...] = (
    ((aiohttp.ClientConnectorDNSError,), "dns", "DNS lookup failed"),
    ((aiohttp.ClientSSLError, ssl.SSLError), "tls", "TLS failed"),
    ((aiohttp.ClientConnectorError,), "connect", "cannot connect"),
    ((OSError, aiohttp.ServerConnectionError), "connect", "connection lost"),  # resets, hangups
    ((aiohttp.InvalidURL,), "bad_scheme", "not a valid http(s) URL"),
)


def _translate(exc: BaseException, route: Route, s: FetchSettings) -> FetchError:
    """An aiohttp / asyncio / OS error as one of ours, with its category."""
    url, hop = route.url, route.hop
    blocked = exc if isinstance(exc, AddressBlocked) else getattr(exc, "os_error", None)
    if isinstance(blocked, AddressBlocked):  # raised by GuardedResolver inside the connector
        return FetchBlocked(url, f"{hop}{blocked}; {route.not_allowed}")
    if isinstance(exc, TimeoutError):
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            why = f"no connection within {s.connect_timeout:g} s"
        elif isinstance(exc, aiohttp.SocketTimeoutError):
            why = f"no bytes received for {s.read_timeout:g} s"
        else:
            why = f"no complete answer within {s.timeout:g} s"
        return FetchTimeout(url, hop + why)
    category, what = next(
        ((c, w) for kind, c, w in _KINDS if isinstance(exc, kind)), ("protocol", "malformed HTTP")
    )
    # aiohttp's messages span lines and may quote a whole body
    why = f"{hop}{what} ({textwrap.shorten(str(exc), 200, placeholder=' …')})"
    if category == "bad_scheme":
        return FetchBlocked(url, why, "bad_scheme")
    return FetchError(url, why, category)
