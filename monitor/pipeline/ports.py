"""What the pipeline needs from the parts around it, as protocols: the database (PollStore,
implemented by monitor.store.gateway.Database), the HTTP fetcher, the worker pool and the
matcher. Tests hand the pipeline fakes of these; the service hands it the real ones."""

from __future__ import annotations

from collections.abc import Iterable, Set
from datetime import datetime, timedelta
from typing import Protocol

from monitor.ingest.fetch import Response
from monitor.models import (
    Article,
    DueFeed,
    Entry,
    Extracted,
    Match,
    ParsedFeed,
    PollRecord,
    Route,
    StoredEntry,
    WebPage,
)
from monitor.profiles.evaluate import FoldedField
from monitor.profiles.profile import Doc


class PollStore(Protocol):
    """The database calls of a cycle and its polls. Each blocks (one transaction or one read):
    the pipeline runs them in threads."""

    def claim_due(
        self, now: datetime, *, everything: bool, lease: timedelta, limit: int | None
    ) -> list[DueFeed]:
        """Lease the feeds due for a poll, at most `limit`, the longest overdue first."""
        ...

    def extend_leases(self, leases: dict[int, datetime], until: datetime) -> None:
        """Move the leases this instance holds (feed id → its lease_until) to `until`."""

    def unavailable(self, exc: BaseException) -> str | None:
        """When `exc` means the database cannot be reached or written (not a bug): what
        happened, in one line; else None."""
        ...

    def release_leases(self, feed_ids: list[int]) -> None:
        """Give claimed feeds back unpolled."""

    def record_polls(self, records: list[PollRecord]) -> None:
        """Store poll results, schedule the next polls and release the leases."""

    def stored_guids(self, feed_id: int, guids: Iterable[str]) -> set[str]:
        """Which of these entry GUIDs this feed has stored already."""
        ...

    def known_guids(self, feed_id: int) -> set[str]:
        """Every entry GUID stored for this feed."""
        ...

    def article_id_for(self, url: str) -> int | None:
        """The article stored under this canonical URL, if any."""
        ...

    def link_entry(self, feed_id: int, entry: Entry, article_id: int, now: datetime) -> None:
        """Record an entry whose article was processed already (another feed, same link)."""

    def story_candidates(self, band_values: list[int], since: datetime) -> list[tuple[int, bytes]]:
        """(story id, signature) of articles fetched since `since` sharing a signature band."""
        ...

    def store_article(
        self,
        *,
        feed_id: int,
        entry: Entry,
        article: Article,
        matches: list[Match],
        routes: dict[str, list[Route]],
        now: datetime,
        story_id: int | None,
        band_values: list[int],
    ) -> StoredEntry:
        """Article, entry, hits and pending alerts in one transaction (idempotent)."""
        ...


class Fetch(Protocol):
    """The HTTP fetcher (monitor.ingest.fetch.Fetcher)."""

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        origin: str | None = None,
    ) -> Response: ...


class WorkerJobs(Protocol):
    """The CPU work done off the event loop (monitor.ingest.pool.WorkerPool)."""

    async def parse(
        self, body: bytes, url: str, content_type: str, now: datetime, known: Set[str]
    ) -> ParsedFeed | WebPage:
        """A large feed document's entries without the items whose GUID is in `known`."""
        ...

    async def extract(self, html: bytes, url: str) -> Extracted | None:
        """A page's text and metadata; None when it holds no article text."""
        ...

    async def describe(self, text: str) -> tuple[str | None, bytes | None]:
        """The language and near-duplicate signature of a text."""
        ...


class MatchAll(Protocol):
    """Every profile at once (monitor.profiles.matcher.Matcher)."""

    def match(self, doc: Doc, fields: dict[str, FoldedField] | None = None) -> list[Match]: ...
