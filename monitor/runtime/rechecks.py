"""A cycle's re-checks of hit articles (monitor.evidence.recheck), wired to this instance: its
database and evidence folder, its fetcher and extraction workers, the channels of the
profiles that hit each article (those with `notify_changes`), and one log line."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine

from monitor.config.settings import Settings
from monitor.evidence.recheck import Extract, Fetch, Plan, Rechecked, recheck_due
from monitor.models import Route
from monitor.profiles.profile import Profile
from monitor.store.evidence import Keeping
from monitor.store.evidencewatch import Watches

log = logging.getLogger("monitor.evidence")


def plan_of(settings: Settings) -> Plan:
    evidence = settings.evidence
    return Plan(
        schedule=evidence.recheck,
        retry=evidence.retry,
        unreachable_after=evidence.unreachable_after,
        per_cycle=evidence.per_cycle,
        concurrency=max(1, settings.fetch.concurrency // 2),  # polling keeps the other half
    )


def notice_channels(
    profiles: list[Profile], routes: dict[str, list[Route]]
) -> Callable[[tuple[str, ...]], tuple[str, ...]]:
    """The channels a notice about an article hit by some profiles goes to: every channel of
    each of them that wants notices, once."""
    wanted = {p.name for p in profiles if p.notify_changes}

    def channels(names: tuple[str, ...]) -> tuple[str, ...]:
        found = [r.channel for name in names if name in wanted for r in routes.get(name, [])]
        return tuple(dict.fromkeys(found))

    return channels


async def run_rechecks(
    engine: Engine,
    keeping: Keeping,
    settings: Settings,
    holder: str | None,
    fetcher: Fetch,
    pool: Extract,
    channels: Callable[[tuple[str, ...]], tuple[str, ...]],
    clock: Callable[[], datetime],
    *,
    everything: bool = False,
) -> Rechecked:
    """Re-check the due hit articles (every watched one with `everything`)."""
    watches = Watches(
        engine, keeping.folder, lease=timedelta(seconds=settings.lease), holder=holder
    )
    done = await recheck_due(
        watches, fetcher, pool, plan_of(settings), channels, clock, everything=everything
    )
    if done.checked or done.lost:
        counts = ", ".join(f"{kind} {n}" for kind, n in sorted(done.verdicts.items()))
        log.info(
            "re-checked %d hit article(s): %s; %d notice(s)", done.checked, counts, done.notices
        )
    return done
