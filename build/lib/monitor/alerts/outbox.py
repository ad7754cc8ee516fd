"""The outbox worker: deliver pending alerts after their hits are committed, record each result."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from monitor.alerts.channels import LOG_CHANNEL
from monitor.alerts.compose import Message, compose
from monitor.errors import DeliveryError
from monitor.models import ChannelSpec
from monitor.settings import AlertSettings
from monitor.store.outbox import due_alerts, mark_attempt_failed, mark_sent

log = logging.getLogger("monitor.alerts")


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


Send = Callable[[ChannelSpec, Message], None]


def deliver_pending(
    engine: Engine,
    channels: list[ChannelSpec],
    send: Send,
    settings: AlertSettings,
    now: Callable[[], datetime],
) -> DeliveryReport:
    """Deliver every due alert once; a failing channel is retried later without the others
    being resent (each alert row is one hit to one channel)."""
    by_key = {channel.key: channel for channel in channels}
    sent = retrying = failed = 0
    for alert in due_alerts(engine, now()):
        message = compose(alert)
        try:
            if alert.channel == LOG_CHANNEL:
                log.warning("ALERT %s\n%s", message.title, message.body)
            elif alert.channel in by_key:
                send(by_key[alert.channel], message)
            else:
                raise DeliveryError(f"channel {alert.channel} is no longer in alerts.yaml")
        except DeliveryError as exc:
            attempts = alert.attempts + 1
            permanent = alert.channel not in by_key or attempts >= settings.max_attempts
            retry_at = (
                None
                if permanent
                else now() + timedelta(seconds=settings.retry_delay * 2 ** (attempts - 1))
            )
            mark_attempt_failed(engine, alert.id, str(exc), retry_at)
            log.error(
                "alert %d to %s failed (attempt %d): %s%s",
                alert.id,
                alert.channel,
                attempts,
                exc,
                "" if retry_at is None else f"; retrying at {retry_at:%H:%M:%S}",
            )
            if retry_at is None:
                failed += 1
            else:
                retrying += 1
            continue
        mark_sent(engine, alert.id, now())
        sent += 1
    return DeliveryReport(sent, retrying, failed)
