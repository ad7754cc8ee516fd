"""What a message is about, as plain data for the templates (monitor.alerts.render):
one hit, a digest of many, or a notice about the monitor itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from monitor.models import Hit

Format = Literal["text", "markdown", "html"]
FORMATS: tuple[Format, ...] = ("text", "markdown", "html")


@dataclass(frozen=True, slots=True)
class Message:
    """A rendered message: what Apprise sends. `body` is written in `format`."""

    title: str
    body: str
    format: Format = "markdown"


@dataclass(frozen=True, slots=True)
class AlertItem:
    """One article to tell someone about: its hit (and, in one message, its hits for other
    profiles), with the other outlets that carried its story."""

    hit: Hit
    also: tuple[tuple[str, str], ...] = ()  # (outlet, link), in the order they arrived
    ref: str = ""  # the outbox reference ("alert-123", "alert-7+8"): a receiver drops repeats
    others: tuple[Hit, ...] = ()  # the same article's hits for other profiles

    @property
    def hits(self) -> tuple[Hit, ...]:
        """Every hit of this item, one per profile, `hit` first."""
        return (self.hit, *self.others)


@dataclass(frozen=True, slots=True)
class DigestGroup:
    """One profile's hits in a digest, newest first (one item per story)."""

    profile: str
    items: tuple[AlertItem, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    """Every hit of a period for one channel, grouped by profile (an article that matched
    two profiles is in both groups; the templates also get it once, as `items`).

    `reason` is "schedule" (a profile or channel asked for digests) or "debounce" (a profile
    passed its instant-alert limit and the rest of the window was gathered here).
    `timezone` is the IANA name the schedule is written in; times are shown in it.
    """

    schedule: str
    reason: Literal["schedule", "debounce"]
    period_start: datetime | None
    period_end: datetime
    timezone: str
    groups: tuple[DigestGroup, ...]
    ref: str = ""

    @property
    def total(self) -> int:
        """Hits in the digest (an article matching two profiles counts twice)."""
        return sum(len(group.items) for group in self.groups)


@dataclass(frozen=True, slots=True)
class Notice:
    """A message about the monitor itself (feed failing, channel failing, spike, reload …)
    or about alerting (a profile switching to a digest). `body` is plain text."""

    title: str
    body: str
    kind: str  # "feed-failing", "channel-failing", "spike", "config", "debounce", "test" …
    ref: str = ""
