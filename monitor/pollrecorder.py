"""Poll results written in batches, so a quiet cycle does not commit once per feed."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine

from monitor.store import feeds


class PollRecorder:
    """Poll results written in batches: one transaction per BATCH feeds, and whatever is left
    when the cycle ends (`flush`). A result lost to a crash only means that feed is polled
    again once its lease expires: its entries were stored when they were processed."""

    BATCH = 500

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pending: list[feeds.PollRecord] = []

    async def add(self, record: feeds.PollRecord) -> None:
        self.pending.append(record)
        if len(self.pending) >= self.BATCH:
            await self.flush()

    async def flush(self) -> None:
        batch, self.pending = self.pending, []
        if batch:
            await asyncio.to_thread(feeds.record_polls, self.engine, batch)
