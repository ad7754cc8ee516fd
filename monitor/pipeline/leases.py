"""The leases a cycle holds on the feeds it claimed: kept while their polls run, so a poll that
outlasts the lease (a slow site, a worker pool still starting) keeps its feed and no other
instance polls it a second time meanwhile."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from monitor.models import DueFeed
from monitor.pipeline.context import PollContext


class HeldLeases:
    """Feed id → the lease_until this instance set, for the feeds claimed and not finished."""

    def __init__(self, ctx: PollContext, lease: timedelta) -> None:
        self._ctx = ctx
        self._lease = lease
        self._held: dict[int, datetime] = {}

    def claimed(self, batch: list[DueFeed], at: datetime) -> None:
        self._held.update((feed.id, at + self._lease) for feed in batch)

    def finished(self, feed_id: int) -> None:
        self._held.pop(feed_id, None)

    async def renew(self) -> None:
        """Every third of the lease, move the leases still held to a full lease from now
        (until cancelled, when the cycle's polls are over)."""
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 3)
            until = self._ctx.clock() + self._lease
            leases = dict(self._held)
            await asyncio.to_thread(self._ctx.store.extend_leases, leases, until)
            for feed_id in leases:
                if feed_id in self._held:
                    self._held[feed_id] = until
