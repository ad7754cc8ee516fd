"""Sending a message to one channel through Apprise; failures become DeliveryError."""

from __future__ import annotations

import logging
import re

import apprise

from monitor.alerts.channels import apprise_targets
from monitor.alerts.compose import Format, Message
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
            if channel.config is not None:
                app = apprise_targets(channel.config)
                app.asset = self._asset
                accepted = len(app) > 0
            else:
                app = apprise.Apprise(asset=self._asset)
                accepted = app.add(channel.url)
            if not accepted:
                raise DeliveryError(
                    f"channel {channel.key}: Apprise does not accept its "
                    f"{'configuration file' if channel.config else 'URL'} "
                    "(check the scheme and parameters in alerts.yaml)"
                )
            if channel.throttle is not None:
                for target in app:
                    target.request_rate_per_sec = channel.throttle
            self._apps[channel.key] = app
        return app

    def format_for(self, channel: ChannelSpec) -> Format:
        """The format to write for a channel: its `format` option, else HTML for e-mail,
        Markdown where the service renders it, plain text otherwise."""
        if channel.format in ("text", "markdown", "html"):
            return channel.format  # type: ignore[return-value]
        try:
            targets = list(self._app(channel))
        except DeliveryError:
            return "text"
        native = getattr(targets[0], "notify_format", ()) if targets else ()
        native = native if isinstance(native, tuple) else (native,)
        formats = {str(getattr(f, "value", f)) for f in native}
        email = len(targets) == 1 and "email" in type(targets[0]).__name__.lower()
        for choice in ("html",) * email + ("markdown", "text", "html"):
            if choice in formats:
                return choice  # type: ignore[return-value]
        return "text"

    def send(self, channel: ChannelSpec, message: Message) -> None:
        """Send, or raise DeliveryError with Apprise's verdict (never the URL: it holds secrets)."""
        app = self._app(channel)
        result = app.notify(
            body=message.body, title=message.title, body_format=apprise.NotifyFormat(message.format)
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
