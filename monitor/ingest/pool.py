"""The worker pool: processes that extract article text (trafilatura), identify languages,
compute signatures and parse large feed documents, each job under a deadline. What runs in a
worker is monitor.ingest.worker, imported only there."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Set
from concurrent.futures import TimeoutError as PoolTimeout
from datetime import UTC, datetime
from types import TracebackType

import pebble
from pebble import ProcessExpired

from monitor.config.settings import ExtractSettings
from monitor.errors import ExtractError, FeedParseError
from monitor.ingest.prune import parse_pruned
from monitor.models import Extracted, ParsedFeed, WebPage


def page_date(extracted: Extracted) -> datetime | None:
    """The page's own date (midnight UTC), used only when the feed gave none."""
    if not extracted.date:
        return None
    try:
        return datetime.fromisoformat(extracted.date[:10]).replace(tzinfo=UTC)
    except ValueError:
        return None


def worker_count(settings: ExtractSettings) -> int:
    """Worker processes of the pool: extract.workers, or one per CPU core when 0."""
    return settings.workers or os.cpu_count() or 1


def _extract(html: bytes, url: str) -> Extracted | None:
    """extract_page, run in a worker (imported there: trafilatura stays out of this process);
    now and then the memory it freed goes back to the system."""
    from monitor.ingest.worker import after_page, extract_page  # noqa: PLC0415

    try:
        return extract_page(html, url)
    finally:
        after_page()


def _describe(text: str) -> tuple[str | None, bytes | None]:
    """describe_text, imported where it runs (a worker, or this process as a fallback)."""
    from monitor.ingest.worker import describe_text  # noqa: PLC0415

    return describe_text(text)


def _warm_up() -> None:
    """A worker's initializer: imports the worker module and loads the language model."""
    from monitor.ingest.worker import warm_up  # noqa: PLC0415

    warm_up()


class WorkerPool:
    """A pool of worker processes; a job over its time limit is abandoned, its worker replaced."""

    def __init__(self, settings: ExtractSettings) -> None:
        self._settings = settings
        self._pool: pebble.ProcessPool | None = None

    async def __aenter__(self) -> WorkerPool:
        workers = worker_count(self._settings)
        self._pool = pebble.ProcessPool(
            max_workers=workers,
            context=multiprocessing.get_context("forkserver"),
            initializer=_warm_up,
        )
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.close()  # type: ignore[no-untyped-call]
            await asyncio.to_thread(pool.join, 10)

    async def parse(
        self, body: bytes, url: str, content_type: str, now: datetime, known: Set[str]
    ) -> ParsedFeed | WebPage:
        """A large feed document parsed in a worker, within the same time limit as a page;
        items whose GUID is in `known` are dropped before feedparser reads the rest."""
        if self._pool is None:
            raise RuntimeError("WorkerPool used outside `async with`")
        future = self._pool.schedule(
            parse_pruned,
            args=(body, url, content_type, now, frozenset(known)),
            timeout=self._settings.timeout,
        )
        try:
            parsed: ParsedFeed | WebPage = await asyncio.wrap_future(future)
        except PoolTimeout:
            raise FeedParseError(f"{url}: parsing took over {self._settings.timeout:g} s") from None
        except ProcessExpired as exc:
            raise FeedParseError(f"{url}: parsing worker died ({exc})") from None
        return parsed

    async def describe(self, text: str) -> tuple[str | None, bytes | None]:
        """describe_text in a worker, beside the main process's parsing, matching and storing
        (an entry's own text: a feed with full-text entries is all this work); in this
        process when the pool cannot."""
        if self._pool is None:
            return _describe(text)
        try:
            future = self._pool.schedule(_describe, args=(text,), timeout=self._settings.timeout)
            described: tuple[str | None, bytes | None] = await asyncio.wrap_future(future)
        except (PoolTimeout, ProcessExpired, RuntimeError):  # RuntimeError: pool closed
            return _describe(text)  # the pool could not: described here
        return described

    async def extract(self, html: bytes, url: str) -> Extracted | None:
        """Text of the page at `url`, or None when it has none; ExtractError when it fails."""
        if self._pool is None:
            raise RuntimeError("WorkerPool used outside `async with`")
        limit = self._settings.max_bytes
        if len(html) > limit:
            raise ExtractError(f"{url}: page of {len(html)} bytes exceeds the limit of {limit}")
        future = self._pool.schedule(_extract, args=(html, url), timeout=self._settings.timeout)
        try:
            result: Extracted | None = await asyncio.wrap_future(future)
        except PoolTimeout:
            raise ExtractError(
                f"{url}: extraction took over {self._settings.timeout:g} s"
            ) from None
        except ProcessExpired as exc:
            raise ExtractError(f"{url}: extraction worker died ({exc})") from None
        except Exception as exc:  # noqa: BLE001  (trafilatura/lxml raise many types on broken pages)
            raise ExtractError(f"{url}: {type(exc).__name__}: {exc}") from None
        return result
