"""Counts for the operator: feeds by status, hits per profile, alerts and messages by status.

One grouped query each, cheap enough to run at every /metrics scrape and `monitor status`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from monitor.store.backlog import count_by_status
from monitor.store.tables import AlertRow, FeedRow, HitRow, MessageRow


@dataclass(frozen=True, slots=True)
class Counts:
    """What the database holds, grouped."""

    feeds: dict[str, int]  # feed status (new, ok, failing, gone, …) → feeds; disabled apart
    hits: dict[str, int]  # profile → hits stored
    alerts: dict[str, int]  # alert status (pending, queued, sent, failed, …) → alerts
    messages: dict[str, int]  # message status (pending, sent, failed) → digests and notices

    @property
    def backlog(self) -> int:
        """Deliveries waiting: pending alerts, alerts queued for a digest, pending messages."""
        return (
            self.alerts.get("pending", 0)
            + self.alerts.get("queued", 0)
            + self.messages.get("pending", 0)
        )

    @property
    def failing_feeds(self) -> int:
        return self.feeds.get("failing", 0) + self.feeds.get("gone", 0)


def counts(engine: Engine) -> Counts:
    """Every group count; the outbox tables' through outbox.count_by_status."""
    with Session(engine) as session:
        feed_status = func.coalesce(FeedRow.status, "new")
        feeds: dict[str, int] = {}
        for enabled, status, number in session.exec(
            select(col(FeedRow.enabled), feed_status, func.count()).group_by(
                col(FeedRow.enabled), feed_status
            )
        ):
            key = status if enabled else "disabled"
            feeds[key] = feeds.get(key, 0) + number
        hits = dict(
            session.exec(
                select(col(HitRow.profile), func.count()).group_by(col(HitRow.profile))
            ).all()
        )
    alerts = count_by_status(engine, AlertRow)
    messages = count_by_status(engine, MessageRow)
    return Counts(feeds=feeds, hits=hits, alerts=alerts, messages=messages)
