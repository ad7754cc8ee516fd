"""What one cycle did: its counts, the line the log gets for it, and what the instance table
keeps of it for `monitor status`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from monitor.alerts.outbox import DeliveryReport

log = logging.getLogger("monitor.service")


@dataclass(frozen=True, slots=True)
class CycleReport:
    feeds_polled: int = 0
    feeds_failed: int = 0
    entries_new: int = 0
    hits: int = 0
    alerts_created: int = 0
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    duration_ms: int = 0
    stages: dict[str, dict[str, float]] = field(default_factory=dict)  # StageTimes.as_dict()
    feeds_skipped: int = 0  # due, but claimed by another instance at the cycle's start
    skipped: tuple[str, ...] = ()  # who holds them, and why they were left (takeover)


def log_cycle(report: CycleReport, *, database_down: bool) -> None:
    """The cycle's line: every count, and `database=unavailable` during an outage."""
    delivery = report.delivery
    log.info(
        "cycle feeds_polled=%d feeds_skipped=%d feeds_failed=%d entries_new=%d hits=%d "
        "alerts_created=%d alerts_sent=%d alerts_retrying=%d alerts_failed=%d "
        "alerts_throttled_s=%.0f duration_ms=%d%s",
        report.feeds_polled,
        report.feeds_skipped,
        report.feeds_failed,
        report.entries_new,
        report.hits,
        report.alerts_created,
        delivery.sent,
        delivery.retrying,
        delivery.failed,
        delivery.throttled,
        report.duration_ms,
        " database=unavailable" if database_down else "",
    )


def delivered(report: CycleReport) -> dict[str, int]:
    """The cycle's deliveries by outcome (the metrics' labels)."""
    delivery = report.delivery
    return {"sent": delivery.sent, "retrying": delivery.retrying, "failed": delivery.failed}


def summary(report: CycleReport) -> dict[str, Any]:
    """What the instance table keeps of the cycle (instances.record_cycle)."""
    return {
        "duration_ms": report.duration_ms,
        "feeds_polled": report.feeds_polled,
        "feeds_failed": report.feeds_failed,
        "entries_new": report.entries_new,
        "hits": report.hits,
        "alerts_created": report.alerts_created,
        **{f"alerts_{outcome}": count for outcome, count in delivered(report).items()},
    }
