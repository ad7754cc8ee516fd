"""Poll results written in batches, so a quiet cycle does not commit once per feed."""

from __future__ import annotations

import asyncio
import time

from monitor.models import PollRecord
from monitor.pipeline.ports import PollStore


class PollRecorder:
    """Poll results written in batches: one transaction per BATCH feeds, or sooner once the
    oldest result has waited MAX_WAIT seconds, and whatever is left when the cycle ends
    (`flush`). Writing a result releases its feed's lease: a result held back longer than
    the lease would let another instance poll the feed again in the same cycle. A result
    lost to a crash only means that feed is polled again once its lease expires: its
    entries were stored when they were processed."""

    BATCH = 500
    MAX_WAIT = 2.0  # seconds

    def __init__(self, store: PollStore) -> None:
        self.store = store
        self.pending: list[PollRecord] = []
        self.lost: list[PollRecord] = []  # batches the store refused (the database down)
        self._oldest = 0.0  # time.monotonic() of the first pending result

    async def add(self, record: PollRecord) -> None:
        if not self.pending:
            self._oldest = time.monotonic()
        self.pending.append(record)
        if len(self.pending) >= self.BATCH or time.monotonic() - self._oldest >= self.MAX_WAIT:
            await self.flush()

    async def flush(self) -> None:
        batch, self.pending = self.pending, []
        if batch:
            try:
                await asyncio.to_thread(self.store.record_polls, batch)
            except Exception:
                self.lost.extend(batch)  # polled again when their leases end
                raise
