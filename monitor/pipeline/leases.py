"""The leases a cycle holds on the feeds it claimed: kept while their polls run, so a poll that
outlasts the lease (a slow site, a worker pool still starting) keeps its feed and no other
instance polls it a second time meanwhile."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from monitor.models import DueFeed
from monitor.pipeline.context import PollContext

log = logging.getLogger("monitor.service")


class HeldLeases:
    """Feed id → the lease_until this instance set, for the feeds this cycle claimed. A poll's
    written result clears its feed's lease in the database; renewing it then changes nothing
    (store.feeds.extend_leases moves only a lease that is still the one set here)."""

    def __init__(self, ctx: PollContext, lease: timedelta) -> None:
        self._ctx = ctx
        self._lease = lease
        self._held: dict[int, datetime] = {}

    def claimed(self, batch: list[DueFeed], at: datetime) -> None:
        self._held.update((feed.id, at + self._lease) for feed in batch)

    async def renew(self) -> None:
        """Every third of the lease, move the leases to a full lease from now (until
        cancelled, when the cycle's polls are over)."""
        failing = False
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 3)
            until = self._ctx.clock() + self._lease
            leases = dict(self._held)
            try:
                await asyncio.to_thread(self._ctx.store.extend_leases, leases, until)
            except Exception as exc:  # noqa: BLE001  (the database away: the leases stand)
                # one line per outage, never a dead task's traceback; the next turn tries again
                if not failing:
                    log.warning("leases not renewed: %s", str(exc).splitlines()[0])
                failing = True
                continue
            failing = False
            self._held.update(dict.fromkeys(leases, until))
