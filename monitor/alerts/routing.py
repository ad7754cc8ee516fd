"""Routing: which channels a profile's alerts go to, and whether they wait for a digest."""

from __future__ import annotations

from datetime import datetime

from monitor.alerts.channels import AlertConfig, route
from monitor.models import Route
from monitor.profiles.profile import Profile


def digest_of(profile: Profile, channel_key: str, alerts: AlertConfig) -> str | None:
    """The digest schedule a profile's alerts to a channel wait for (None: sent at once).
    A channel's own `digest` wins over the profile's `alert: digest`."""
    channel = next((c for c in alerts.channels if c.key == channel_key), None)
    if channel is not None and channel.digest is not None:
        return channel.digest
    return profile.digest if profile.alert == "digest" else None


def routes(profiles: list[Profile], alerts: AlertConfig, now: datetime) -> dict[str, list[Route]]:
    """Where each profile's alerts go now: each channel, and for a digest when it is due."""
    out: dict[str, list[Route]] = {}
    for profile in profiles:
        out[profile.name] = []
        for key in route(alerts.channels, profile.tags):
            digest = digest_of(profile, key, alerts)
            due = alerts.schedules[digest].due_after(now) if digest else None
            out[profile.name].append(Route(key, digest, due))
    return out


def digest_channels(profiles: list[Profile], alerts: AlertConfig) -> dict[str, set[str]]:
    """The channels each digest schedule sends to."""
    out: dict[str, set[str]] = {}
    for profile in profiles:
        for key in route(alerts.channels, profile.tags):
            schedule = digest_of(profile, key, alerts)
            if schedule is not None:
                out.setdefault(schedule, set()).add(key)
    return out
