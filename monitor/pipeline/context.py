"""What a cycle's polls share: their collaborators (database, fetcher, worker pool, matcher),
the routes and settings of the moment, the limits on work in flight, and the poll recorder.
Tests build one with fakes for the protocols of monitor.pipeline.ports."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from monitor.config.settings import Settings
from monitor.models import Route
from monitor.pipeline.budget import HostBudget
from monitor.pipeline.ports import Fetch, MatchAll, PollStore, WorkerJobs
from monitor.pipeline.recorder import PollRecorder
from monitor.pipeline.timing import StageTimes


@dataclass(slots=True)
class PollContext:
    """The collaborators and shared state of one cycle's polls."""

    store: PollStore
    fetcher: Fetch
    pool: WorkerJobs
    matcher: MatchAll
    routes: dict[str, list[Route]]  # profile → where its alerts go
    settings: Settings
    clock: Callable[[], datetime]
    limit: asyncio.Semaphore  # HTTP requests in flight (fetch.concurrency)
    store_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    times: StageTimes = field(default_factory=StageTimes)
    # pages fetched and not yet extracted, at most: keeps memory flat however many entries
    # a cycle finds (None: no limit)
    pages: asyncio.Semaphore | None = None
    recorder: PollRecorder = field(init=False)
    hosts: HostBudget = field(init=False)  # pages fetched per host in this cycle
    refused: set[int] = field(default_factory=set)  # feeds told this cycle of a refused link
    # the extractor could not load this cycle (ExtractorUnavailable's message), and how many
    # pages it extracted: what the service's notice about extraction goes by
    extract_problem: str | None = None
    database_fault: Exception | None = None  # the first "database unavailable" of the cycle
    pages_extracted: int = 0

    def __post_init__(self) -> None:
        self.recorder = PollRecorder(self.store)
        self.hosts = HostBudget(self.settings.fetch.max_pages_per_host)
