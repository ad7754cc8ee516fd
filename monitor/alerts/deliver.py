"""Sending a message to one channel through Apprise; failures become DeliveryError."""

from __future__ import annotations

import logging
import re

import apprise

from monitor.alerts.compose import Message
from monitor.errors import DeliveryError
from monitor.models import ChannelSpec

log = logging.getLogger(__name__)
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)


class Notifier:
    """Delivers messages to Apprise channels; one Apprise object per channel, built lazily."""

    def __init__(self, app_id: str = "governance-news-monitor") -> None:
        self._asset = apprise.AppriseAsset(app_id=app_id, app_desc="Governance-news monitor")
        self._apps: dict[str, apprise.Apprise] = {}

    def _app(self, channel: ChannelSpec) -> apprise.Apprise:
        app = self._apps.get(channel.key)
        if app is None:
            app = apprise.Apprise(asset=self._asset)
            if not app.add(channel.url):
                raise DeliveryError(
                    f"channel {channel.key}: Apprise does not accept its URL "
                    "(check the scheme and parameters in alerts.yaml)"
                )
            self._apps[channel.key] = app
        return app

    def send(self, channel: ChannelSpec, message: Message) -> None:
        """Send, or raise DeliveryError with Apprise's verdict (never the URL: it holds secrets)."""
        app = self._app(channel)
        result = app.notify(
            body=message.body, title=message.title, body_format=apprise.NotifyFormat.MARKDOWN
        )
        if not result:
            status = getattr(getattr(result, "status", None), "name", "FAILURE")
            reason = _reason(result)
            raise DeliveryError(
                f"channel {channel.key}: delivery failed ({status})"
                + (f": {reason}" if reason else "")
            )


def _reason(result: object) -> str:
    """Apprise's own warnings about this call, with anything URL-like masked (it may hold a
    token): "Failed to send JSON POST notification: Servers are overloaded., error=503."."""
    lines = []
    for entry in getattr(result, "logs", list)():
        if getattr(entry, "level", "") in ("WARNING", "ERROR"):
            lines.append(_URL.sub("<url>", str(getattr(entry, "message", ""))))
    return " ".join(dict.fromkeys(lines))[:500]
