"""Feed health rules: when a feed is polled next (the one place that decides it), and when
its failure or silence is told.

Pure functions of values (no clock, no database): the store records, the service notifies.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from monitor.backoff import backoff
from monitor.config.settings import HealthSettings, Settings
from monitor.models import DueFeed, FeedHealth, PollResult

MIN_DATED_ENTRIES = 5  # fewer dated entries than this: no rhythm known, never "silent"


def next_poll(
    feed: DueFeed,
    result: PollResult,
    now: datetime,
    settings: Settings,
    *,
    rng: random.Random | None = None,
) -> datetime:
    """When to poll `feed` again after a poll that ended with `result` (started at `now`):
    its own interval or poll_interval, backed off while it keeps failing."""
    interval = feed.interval_seconds or settings.poll_interval
    failures = feed.consecutive_failures + 1 if result.failed else 0
    return next_poll_at(
        now, interval, failures, settings.health, retry_after=result.retry_after, rng=rng
    )


def next_poll_at(
    now: datetime,
    interval: float,
    failures: int,
    settings: HealthSettings,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """The interval after a success; after failures, the interval doubled per consecutive
    failure up to max_backoff, with jitter (monitor.backoff); never sooner than the
    server's Retry-After."""
    delay = backoff(interval, failures, settings.max_backoff, rng=rng)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return now + timedelta(seconds=delay)


def usual_gap(published: Sequence[datetime]) -> float | None:
    """The median time between a feed's recent entries, in seconds (None if unknown)."""
    dates = sorted(set(published))
    if len(dates) < MIN_DATED_ENTRIES:
        return None
    gaps = [(b - a).total_seconds() for a, b in pairwise(dates)]
    return statistics.median(gaps)


def is_silent(
    last_entry: datetime | None, gap: float | None, now: datetime, settings: HealthSettings
) -> bool:
    """A feed that usually publishes but has been quiet far longer than its own rhythm."""
    if last_entry is None or gap is None:
        return False
    quiet = (now - last_entry).total_seconds()
    return quiet > max(settings.silent_factor * gap, settings.silent_min)


@dataclass(frozen=True, slots=True)
class Notice:
    """A message about one feed for the channels that take system notices."""

    feed_id: int
    kind: str  # "failing", "recovered", "gone" or "silent"
    title: str
    body: str


def failure_notice_due(
    failures: int, last_notice: datetime | None, now: datetime, settings: HealthSettings
) -> bool:
    """First after `failure_threshold` failures in a row, then every `reminder`."""
    if failures < settings.failure_threshold:
        return False
    return last_notice is None or (now - last_notice).total_seconds() >= settings.reminder


def notices(feeds: Sequence[FeedHealth], settings: HealthSettings, now: datetime) -> list[Notice]:
    """What to tell about these feeds now (each notice is recorded, so none repeats early)."""
    out: list[Notice] = []
    for feed in feeds:
        label = feed.name or feed.url
        if feed.status == "gone" and feed.failure_notice_at is None:
            out.append(
                Notice(
                    feed.id,
                    "gone",
                    f"Feed gone: {label}",
                    (
                        f"{feed.url} answered 410 Gone and is no longer polled. Remove it from "
                        "feeds.yaml, or replace it with the publisher's new feed URL."
                    ),
                )
            )
        elif feed.status == "failing" and failure_notice_due(
            feed.consecutive_failures, feed.failure_notice_at, now, settings
        ):
            out.append(
                Notice(
                    feed.id,
                    "failing",
                    f"Feed failing: {label}",
                    (
                        f"{feed.url} failed {feed.consecutive_failures} polls in a row "
                        f"({feed.error_category or 'error'}): {feed.error}\n"
                        f"Last success: {_when(feed.last_success_at)}. "
                        f"Next try: {_when(feed.next_poll_at)}."
                    ),
                )
            )
        elif feed.status not in ("failing", "gone") and feed.failure_notice_at is not None:
            out.append(
                Notice(
                    feed.id,
                    "recovered",
                    f"Feed recovered: {label}",
                    (f"{feed.url} answers again (status {feed.status})."),
                )
            )
        silent_since = feed.last_entry_at
        already_told = feed.silent_notice_at is not None and (
            silent_since is None or feed.silent_notice_at > silent_since
        )
        gap = usual_gap(feed.recent_published)
        if (
            not already_told
            and feed.status in ("ok", "not_modified", "empty")
            and is_silent(silent_since, gap, now, settings)
        ):
            days = (now - silent_since).total_seconds() / 86400 if silent_since else 0
            out.append(
                Notice(
                    feed.id,
                    "silent",
                    f"Feed silent: {label}",
                    (
                        f"{feed.url} has published nothing new for {days:.1f} days, although it "
                        f"usually publishes every {(gap or 0) / 3600:.1f} hours. It still answers "
                        f"(status {feed.status}); check that it is still the publisher's live feed."
                    ),
                )
            )
    return out


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "never"
