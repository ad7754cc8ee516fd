"""All HTTP the monitor does: one aiohttp session with timeouts, a byte cap and conditional GET."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit

import aiohttp

from monitor.errors import FetchError, FetchStatus, FetchTimeout, FetchTooLarge
from monitor.settings import FetchSettings

_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class Response:
    """A completed fetch: 200 with a body, or 304 (not_modified) without one."""

    url: str  # after redirects
    status: int
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class Fetcher:
    """Fetches URLs with the configured limits; use as an async context manager."""

    def __init__(self, settings: FetchSettings) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(settings.per_host)
        )

    async def __aenter__(self) -> Fetcher:
        s = self._settings
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(
                total=s.timeout, sock_connect=s.connect_timeout, sock_read=s.read_timeout
            ),
            connector=aiohttp.TCPConnector(limit=s.concurrency * 2, limit_per_host=s.per_host),
            headers={"User-Agent": s.user_agent},
            auto_decompress=True,
        )
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Response:
        """GET `url`; with etag/last_modified a 304 comes back as Response.not_modified."""
        if self._session is None:
            raise RuntimeError("Fetcher used outside `async with`")
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        host = urlsplit(url).netloc.lower()
        async with self._hosts[host]:
            try:
                return await self._get(self._session, url, headers)
            except TimeoutError:
                raise FetchTimeout(
                    url, f"no complete answer within {self._settings.timeout:g} s"
                ) from None
            except aiohttp.TooManyRedirects:
                raise FetchError(url, "too many redirects") from None
            except aiohttp.ClientError as exc:
                raise FetchError(url, f"{type(exc).__name__}: {exc}") from None

    async def _get(
        self, session: aiohttp.ClientSession, url: str, headers: dict[str, str]
    ) -> Response:
        limit = self._settings.max_bytes
        async with session.get(
            url, headers=headers, max_redirects=self._settings.max_redirects
        ) as resp:
            if resp.status == 304:
                return Response(str(resp.url), 304, b"", "", None, None)
            if resp.status >= 400 or resp.status < 200:
                raise FetchStatus(url, resp.status)
            if resp.content_length is not None and resp.content_length > limit:
                raise FetchTooLarge(url, f"declared {resp.content_length} bytes, limit {limit}")
            body = bytearray()
            async for chunk in resp.content.iter_chunked(_CHUNK):
                body += chunk
                if len(body) > limit:
                    raise FetchTooLarge(url, f"body exceeds the limit of {limit} bytes")
            return Response(
                url=str(resp.url),
                status=resp.status,
                body=bytes(body),
                content_type=resp.headers.get("Content-Type", ""),
                etag=resp.headers.get("ETag"),
                last_modified=resp.headers.get("Last-Modified"),
            )
