"""The worker pool: processes that extract article text (trafilatura), identify languages,
compute signatures and parse large feed documents, each job under a deadline. What runs in a
worker is monitor.ingest.worker, imported only there."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import time
from collections.abc import Set
from concurrent.futures import TimeoutError as PoolTimeout
from datetime import UTC, datetime
from types import TracebackType

import pebble
from pebble import ProcessExpired

from monitor.config.settings import ExtractSettings
from monitor.errors import ExtractError, ExtractorUnavailable, FeedParseError
from monitor.ingest.prune import parse_pruned
from monitor.models import Extracted, ParsedFeed, WebPage

log = logging.getLogger("monitor.extract")

RETRY_SECONDS = 60.0  # while the extractor cannot load: pages go to the entry's text this long


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
    """describe_text, imported where it runs (a worker, or this process as a fallback); it
    needs no extractor, so it works while the extractor cannot load."""
    from monitor.ingest.describe import describe_text  # noqa: PLC0415

    return describe_text(text)


def _warm_up() -> None:
    """A worker's initializer: imports the worker module and loads the language model. An
    extractor that cannot be imported is left to the jobs to report: a failing initializer
    would kill every worker pebble starts, and each job would wait for the next one."""
    try:
        from monitor.ingest.worker import warm_up  # noqa: PLC0415
    except ImportError:
        return
    warm_up()


def _check() -> tuple[str, str] | None:
    """Run in a worker when the pool starts: None when the extractor imports, else the
    missing package and the error."""
    try:
        import monitor.ingest.worker  # noqa: F401, PLC0415
    except ImportError as exc:
        return _missing(exc)
    return None


def _missing(exc: ImportError) -> tuple[str, str]:
    """The package an ImportError is about (its top-level name), and the error in a line."""
    name = (exc.name or "").split(".")[0] or "a package of the extractor"
    return name, f"{type(exc).__name__}: {exc}"


class WorkerPool:
    """A pool of worker processes; a job over its time limit is abandoned, its worker replaced."""

    def __init__(self, settings: ExtractSettings) -> None:
        self._settings = settings
        self._pool: pebble.ProcessPool | None = None
        self.problem: ExtractorUnavailable | None = None  # the extractor cannot load
        self._retry_at = 0.0  # time.monotonic() when a page is tried in a worker again

    async def __aenter__(self) -> WorkerPool:
        """Start the workers and check that they can load the extractor: a missing package
        is ExtractorUnavailable now, not a failure of every page later."""
        workers = worker_count(self._settings)
        self._pool = pebble.ProcessPool(
            max_workers=workers,
            context=multiprocessing.get_context("forkserver"),
            initializer=_warm_up,
        )
        try:
            await self._check()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def _check(self) -> None:
        assert self._pool is not None
        future = self._pool.schedule(_check, timeout=self._settings.timeout + 30)  # + warm-up
        try:
            missing: tuple[str, str] | None = await asyncio.wrap_future(future)
        except (PoolTimeout, ProcessExpired) as exc:
            missing = ("the worker processes", f"they did not start ({type(exc).__name__})")
        if missing is not None:
            name, error = missing
            raise ExtractorUnavailable(
                f"extraction cannot start: the worker processes cannot import {name} "
                f"({error}); install it in the service's Python environment "
                f"(pip install {name})",
                name,
            )

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

    def _unavailable(self, url: str) -> ExtractorUnavailable | None:
        """While the extractor cannot load (RETRY_SECONDS since a page found so), a page
        is not sent to a worker: the error at once, for the entry's own text."""
        if self.problem is None or time.monotonic() >= self._retry_at:
            return None
        return ExtractorUnavailable(f"{url}: {self.problem}", self.problem.missing)

    def _broken(self, url: str, exc: ImportError) -> ExtractorUnavailable:
        name, error = _missing(exc)
        if self.problem is None:
            log.error(
                "extraction unavailable: the worker processes cannot import %s (%s); pages "
                "are matched on their entries' own text until it is installed",
                name,
                error,
            )
        self.problem = ExtractorUnavailable(
            f"extraction unavailable: the worker processes cannot import {name} ({error})",
            name,
        )
        self._retry_at = time.monotonic() + RETRY_SECONDS
        return ExtractorUnavailable(f"{url}: {self.problem}", name)

    def _works(self) -> None:
        if self.problem is not None:
            log.info("extraction works again (%s could be imported)", self.problem.missing)
            self.problem = None

    async def extract(self, html: bytes, url: str) -> Extracted | None:
        """Text of the page at `url`, or None when it has none; ExtractError when it fails."""
        if self._pool is None:
            raise RuntimeError("WorkerPool used outside `async with`")
        limit = self._settings.max_bytes
        if len(html) > limit:
            raise ExtractError(f"{url}: page of {len(html)} bytes exceeds the limit of {limit}")
        if (unavailable := self._unavailable(url)) is not None:
            raise unavailable
        future = self._pool.schedule(_extract, args=(html, url), timeout=self._settings.timeout)
        try:
            result: Extracted | None = await asyncio.wrap_future(future)
        except PoolTimeout:
            raise ExtractError(
                f"{url}: extraction took over {self._settings.timeout:g} s"
            ) from None
        except ProcessExpired as exc:
            raise ExtractError(f"{url}: extraction worker died ({exc})") from None
        except ImportError as exc:  # the worker cannot load the extractor: not this page's fault
            raise self._broken(url, exc) from None
        except Exception as exc:  # noqa: BLE001  (trafilatura/lxml raise many types on broken pages)
            raise ExtractError(f"{url}: {type(exc).__name__}: {exc}") from None
        self._works()
        return result
