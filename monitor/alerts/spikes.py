"""Spikes: a profile whose hits in the last window stand well above its own recent baseline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from monitor.config.settings import AlertSettings

HISTORY = timedelta(days=1)  # a profile younger than this has no baseline worth comparing


class HitCounts(Protocol):
    """The counts a spike is found in (monitor.store.gateway.Database)."""

    def hit_counts(self, since: datetime, until: datetime) -> dict[str, int]:
        """Hits stored per profile in [since, until)."""
        ...

    def first_hits(self) -> dict[str, datetime]:
        """When each profile's first stored hit was made."""
        ...


@dataclass(frozen=True, slots=True)
class Spike:
    profile: str
    recent: int  # hits in the window ending now
    baseline: float  # average hits per window over the baseline period
    window_start: datetime


def find_spikes(counts: HitCounts, now: datetime, settings: AlertSettings) -> list[Spike]:
    """Profiles with at least spike_min_hits hits in the last spike_window and more than
    spike_factor × their average per window over the spike_baseline before it."""
    window = timedelta(seconds=settings.spike_window)
    baseline_span = timedelta(seconds=settings.spike_baseline)
    start = now - window
    recent = counts.hit_counts(start, now + timedelta(microseconds=1))
    candidates = {p: n for p, n in recent.items() if n >= settings.spike_min_hits}
    if not candidates:
        return []
    first = counts.first_hits()
    before = counts.hit_counts(start - baseline_span, start)
    spikes = []
    for profile, count in sorted(candidates.items()):
        if profile not in first or now - first[profile] < HISTORY:
            continue
        history = min(baseline_span, start - first[profile])
        windows = max(history / window, 1.0)
        baseline = before.get(profile, 0) / windows
        if count > settings.spike_factor * baseline:
            spikes.append(Spike(profile, count, baseline, start))
    return spikes
