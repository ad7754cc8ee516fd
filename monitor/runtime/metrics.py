"""Prometheus metrics of one service instance: what its cycles did, and what the database holds.

Cycle figures are counted in this process as cycles end; the database's figures (feeds by
status, hits per profile, alerts and messages by status, the outbox backlog) are read at
scrape time, so every instance sharing a database reports the same totals for them.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from monitor.store import stats

# A cycle takes from under a second (quiet feeds) to minutes (a first poll of many feeds).
CYCLE_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)


class Metrics:
    """The registry /metrics renders, and the calls that update it."""

    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.cycle_seconds = Histogram(
            "monitor_cycle_duration_seconds", "Wall time of a cycle", buckets=CYCLE_BUCKETS,
            registry=r,
        )  # fmt: skip
        self.last_cycle_end = Gauge(
            "monitor_last_cycle_end_timestamp_seconds",
            "When this instance's last cycle ended (Unix time)",
            registry=r,
        )
        self.stage_seconds = Counter(
            "monitor_stage_seconds",
            "Time spent in each stage, summed over its calls (stages overlap)",
            ["stage"],
            registry=r,
        )
        self.stage_calls = Counter(
            "monitor_stage_calls", "Calls of each stage", ["stage"], registry=r
        )
        self.feeds_polled = Counter(
            "monitor_feeds_polled", "Feed polls by this instance", ["result"], registry=r
        )
        self.entries_new = Counter("monitor_entries_new", "New entries stored", registry=r)
        self.hits_new = Counter("monitor_hits_new", "Hits stored by this instance", registry=r)
        self.alerts = Counter(
            "monitor_alert_deliveries",
            "Alert delivery attempts by this instance, by result",
            ["result"],
            registry=r,
        )
        r.register(_DatabaseCollector(engine))

    def record_cycle(
        self,
        *,
        seconds: float,
        ended_at: float,
        stages: dict[str, dict[str, float]],
        polled: int,
        failed: int,
        entries_new: int,
        hits: int,
        delivered: dict[str, int],
    ) -> None:
        """Count one finished cycle. `stages` is StageTimes.as_dict(); `delivered` maps a
        delivery result (sent, retrying, failed) to its number."""
        self.cycle_seconds.observe(seconds)
        self.last_cycle_end.set(ended_at)
        for stage, figures in stages.items():
            self.stage_seconds.labels(stage).inc(figures.get("seconds", 0.0))
            self.stage_calls.labels(stage).inc(figures.get("calls", 0.0))
        self.feeds_polled.labels("ok").inc(polled - failed)
        self.feeds_polled.labels("error").inc(failed)
        self.entries_new.inc(entries_new)
        self.hits_new.inc(hits)
        for result, number in delivered.items():
            self.alerts.labels(result).inc(number)

    def render(self) -> bytes:
        """The text exposition format (reads the database: call it off the event loop)."""
        return generate_latest(self.registry)


class _DatabaseCollector(Collector):
    """Gauges read from the database at each scrape."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def describe(self) -> list[Metric]:
        return []  # nothing to read when the collector is registered

    def collect(self) -> Iterator[Metric]:
        found = stats.counts(self._engine)
        yield _gauge("monitor_feeds", "Feeds by health status", "status", found.feeds)
        yield _gauge("monitor_hits", "Hits stored, by profile", "profile", found.hits)
        yield _gauge("monitor_alerts", "Alerts by status", "status", found.alerts)
        yield _gauge("monitor_messages", "Digests and notices by status", "status", found.messages)
        backlog = GaugeMetricFamily(
            "monitor_outbox_backlog",
            "Deliveries waiting: pending alerts, alerts queued for a digest, pending messages",
        )
        backlog.add_metric([], found.backlog)
        yield backlog


def _gauge(name: str, doc: str, label: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family
