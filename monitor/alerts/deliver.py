"""Sending a message to one channel through Apprise; failures become DeliveryError.

What a target does with a message decides how its text must be escaped: the body is written
for the chosen format by the templates; the title, plain text from the templates, is
escaped here for where Apprise puts it (a Markdown body gets it as a heading, an HTML body
as a bold line when the service has no title field of its own)."""

from __future__ import annotations

import html
import logging
import re

import apprise

from monitor.alerts.channels import apprise_targets
from monitor.alerts.compose import Format, Message
from monitor.alerts.filters import md_escape
from monitor.errors import DeliveryError
from monitor.models import ChannelSpec

log = logging.getLogger(__name__)
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
# Services whose Apprise plugin sends plain text that the service renders as Markdown anyway
# (links, images, mentions): they get the Markdown templates, whose text from feeds is escaped.
RENDER_MARKDOWN = frozenset(
    {"NotifyMattermost", "NotifyZulip", "NotifyRyver", "NotifyRevolt", "NotifyNextcloudTalk"}
)
# Generic webhooks: the title travels in a field of its own, as plain text (mentions and
# control characters already gone), for the receiver to show as it likes.
TITLE_FIELD = frozenset({"NotifyJSON", "NotifyXML", "NotifyForm"})


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
            if channel.throttle is not None:  # the outbox spaces these messages itself,
                for target in app:  # in a wait a shutdown ends (Apprise's would not)
                    target.request_rate_per_sec = 0
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
        if any(type(target).__name__ in RENDER_MARKDOWN for target in targets):
            return "markdown"
        native = getattr(targets[0], "notify_format", ()) if targets else ()
        native = native if isinstance(native, tuple) else (native,)
        formats = {str(getattr(f, "value", f)) for f in native}
        email = len(targets) == 1 and "email" in type(targets[0]).__name__.lower()
        for choice in ("html",) * email + ("markdown", "text", "html"):
            if choice in formats:
                return choice  # type: ignore[return-value]
        return "text"

    def spacing(self, channel: ChannelSpec) -> float:
        """Seconds Apprise waits between two messages to this channel's service: its
        `throttle`, else the largest of its targets' own spacing (5.5 s for e-mail)."""
        if channel.throttle is not None:
            return channel.throttle
        try:
            targets = list(self._app(channel))
        except DeliveryError:
            return 0.0
        return max(
            (float(getattr(t, "request_rate_per_sec", 0) or 0) for t in targets), default=0.0
        )

    def send(self, channel: ChannelSpec, message: Message) -> None:
        """Send, or raise DeliveryError with Apprise's verdict (never the URL: it holds secrets)."""
        app = self._app(channel)
        result = app.notify(
            body=message.body,
            title=_title_for(message, list(app)),
            body_format=apprise.NotifyFormat(message.format),
        )
        if not result:
            status = getattr(getattr(result, "status", None), "name", "FAILURE")
            reason = _reason(result)
            raise DeliveryError(
                f"channel {channel.key}: delivery failed ({status})"
                + (f": {reason}" if reason else "")
            )


def _title_for(message: Message, targets: list[object]) -> str:
    """The message title escaped for where its targets put it: Markdown-escaped for a
    Markdown message (chat services show it as a heading or a first line of the body),
    except for generic webhooks, which carry it in a plain field of its own; HTML-escaped
    for an HTML message when a target has no title field (Apprise writes the title into the
    body as HTML); as it is otherwise (an e-mail Subject is plain text)."""
    webhooks = all(type(target).__name__ in TITLE_FIELD for target in targets)
    if message.format == "markdown" and not webhooks:
        return md_escape(message.title)
    blended = any(getattr(target, "title_maxlen", 1) <= 0 for target in targets)
    if message.format == "html" and blended:
        return html.escape(message.title)
    return message.title


def _reason(result: object) -> str:
    """Apprise's own warnings about this call, with anything URL-like masked (it may hold a
    token): "Failed to send JSON POST notification: Servers are overloaded., error=503."."""
    lines = []
    for entry in getattr(result, "logs", list)():
        if getattr(entry, "level", "") in ("WARNING", "ERROR"):
            lines.append(_URL.sub("<url>", str(getattr(entry, "message", ""))))
    return " ".join(dict.fromkeys(lines))[:500]
