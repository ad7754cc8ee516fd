"""A digest message's content: its period and hits, grouped by profile (the templates list
each article once), and where each schedule's period starts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from monitor.alerts.compose import AlertItem, Digest, DigestGroup
from monitor.alerts.schedules import DEBOUNCE, Schedule
from monitor.models import DigestHit, PendingMessage


def digest_of(
    message: PendingMessage, rows: list[DigestHit], schedules: Mapping[str, Schedule]
) -> Digest:
    """The digest a message carries: its hits (newest first) grouped by profile."""
    groups: dict[str, list[AlertItem]] = {}
    for row in rows:
        groups.setdefault(row.hit.profile, []).append(
            AlertItem(row.hit, row.also, ref=f"alert-{row.alert_id}")
        )
    schedule = schedules.get(message.schedule or "")
    end = message.period_end or message.period_start or datetime.min
    return Digest(
        schedule=message.schedule or "",
        reason="debounce" if message.schedule == DEBOUNCE else "schedule",
        period_start=message.period_start,
        period_end=end,
        timezone=schedule.timezone if schedule else "UTC",
        groups=tuple(DigestGroup(name, tuple(found)) for name, found in groups.items()),
        ref=f"message-{message.id}",
    )


def period_starts(
    schedules: Mapping[str, Schedule], debounce_window: float
) -> dict[str, Callable[[datetime], datetime | None]]:
    """For each schedule (and the debounce digest), the start of the period ending at a due
    time."""
    window = timedelta(seconds=debounce_window)
    starts: dict[str, Callable[[datetime], datetime | None]] = {
        name: schedule.last_fire_before for name, schedule in schedules.items()
    }
    starts[DEBOUNCE] = lambda due: due - window
    return starts
