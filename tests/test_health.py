"""Feed health: backoff, statuses, failure/recovery/gone/silent notices and `feeds health`."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from monitor.config.settings import HealthSettings
from monitor.models import FeedHealth
from monitor.pipeline.health import is_silent, next_poll_at, notices, usual_gap
from monitor.runtime.lifecycle import run_once
from monitor.runtime.service import Service
from monitor.store.feeds import feed_health
from tests.conftest import RecordingSender, open_database
from tests.test_cli import monitor

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
HEALTH = HealthSettings(failure_threshold=2, reminder=3600, max_backoff=4 * 3600)
RSS = (
    '<rss version="2.0"><channel><title>T</title>'
    "<item><title>x</title><guid>1</guid></item></channel></rss>"
)


@pytest.mark.parametrize(
    ("failures", "low", "high"),
    [(0, 900, 900), (1, 810, 990), (2, 1620, 1980), (3, 3240, 3960), (10, 12960, 15840)],
)
def test_backoff_doubles_per_failure_up_to_the_ceiling(
    failures: int, low: float, high: float
) -> None:
    for seed in range(20):
        delay = (
            next_poll_at(NOW, 900, failures, HEALTH, rng=random.Random(seed)) - NOW
        ).total_seconds()
        assert low <= delay <= high


def test_retry_after_is_honoured() -> None:
    assert next_poll_at(NOW, 900, 1, HEALTH, retry_after=7200) - NOW == timedelta(hours=2)
    assert next_poll_at(NOW, 900, 0, HEALTH, retry_after=60) - NOW == timedelta(seconds=900)


def test_silence_is_measured_against_the_feeds_own_rhythm() -> None:
    hourly = [NOW - timedelta(hours=h) for h in range(10)]
    assert usual_gap(hourly) == 3600
    assert usual_gap(hourly[:3]) is None  # too few entries to know a rhythm
    settings = HealthSettings(silent_factor=5, silent_min=3600)
    assert not is_silent(NOW - timedelta(hours=4), 3600, NOW, settings)
    assert is_silent(NOW - timedelta(hours=6), 3600, NOW, settings)
    assert not is_silent(None, 3600, NOW, settings)


def _feed(**state: object) -> FeedHealth:
    base: dict[str, object] = {
        "id": 1,
        "url": "https://a.example/rss",
        "name": "A",
        "status": "ok",
        "error_category": None,
        "error": None,
        "consecutive_failures": 0,
        "last_polled_at": NOW,
        "last_success_at": NOW,
        "next_poll_at": NOW,
        "last_entry_at": NOW,
        "failure_notice_at": None,
        "silent_notice_at": None,
        "recent_published": (),
    }
    return FeedHealth(**{**base, **state})  # type: ignore[arg-type]


def test_notices() -> None:
    failing = _feed(
        status="failing", consecutive_failures=2, error_category="timeout", error="slow"
    )
    assert [n.kind for n in notices([failing], HEALTH, NOW)] == ["failing"]
    assert notices([_feed(status="failing", consecutive_failures=1)], HEALTH, NOW) == []
    told = _feed(
        status="failing", consecutive_failures=5, failure_notice_at=NOW - timedelta(minutes=30)
    )
    assert notices([told], HEALTH, NOW) == []  # reminded only every hour
    assert [
        n.kind
        for n in notices(
            [
                _feed(
                    status="failing",
                    consecutive_failures=5,
                    failure_notice_at=NOW - timedelta(hours=2),
                )
            ],
            HEALTH,
            NOW,
        )
    ] == ["failing"]
    assert [n.kind for n in notices([_feed(failure_notice_at=NOW)], HEALTH, NOW)] == ["recovered"]
    gone = notices([_feed(status="gone")], HEALTH, NOW)
    assert [n.kind for n in gone] == ["gone"] and "410" in gone[0].body
    rhythm = tuple(NOW - timedelta(days=10, hours=h) for h in range(10))
    quiet = _feed(last_entry_at=NOW - timedelta(days=10), recent_published=rhythm)
    assert [n.kind for n in notices([quiet], HEALTH, NOW)] == ["silent"]
    assert (
        notices(
            [
                _feed(
                    last_entry_at=NOW - timedelta(days=10),
                    recent_published=rhythm,
                    silent_notice_at=NOW - timedelta(days=1),
                )
            ],
            HEALTH,
            NOW,
        )
        == []
    )


@pytest.mark.slow
def test_failing_feed_is_retried_with_backoff_told_once_then_recovers(
    sqlite_url: str, config_dir: Path, httpserver: HTTPServer
) -> None:
    (config_dir / "feeds.yaml").write_text(
        f"feeds:\n  - url: {httpserver.url_for('/feed.xml')}\n    name: Flaky\n"
        f"  - url: {httpserver.url_for('/gone.xml')}\n"
    )
    (config_dir / "monitor.yaml").write_text(
        "extract:\n  workers: 1\nhealth:\n  failure_threshold: 2\n"
    )
    (config_dir / "alerts.yaml").write_text(
        "channels:\n  - url: json://127.0.0.1:1/ops\n    tags: [system]\n"
    )
    settings, engine = open_database(config_dir, sqlite_url)
    sender = RecordingSender()
    service = Service(config_dir, settings, engine, sender=sender)
    httpserver.expect_request("/gone.xml").respond_with_data("gone", status=410)
    httpserver.expect_request("/feed.xml").respond_with_data(
        "busy", status=503, headers={"Retry-After": "120"}
    )

    for _ in range(3):
        asyncio.run(run_once(service, everything=True))
    health = {h.url.rsplit("/", 1)[1]: h for h in feed_health(engine)}
    flaky = health["feed.xml"]
    assert (flaky.status, flaky.consecutive_failures) == ("failing", 3)
    assert flaky.error_category == "http_5xx" and "503" in (flaky.error or "")
    assert flaky.next_poll_at is not None and flaky.last_polled_at is not None
    assert (flaky.next_poll_at - flaky.last_polled_at).total_seconds() >= 0.9 * 900 * 4
    assert health["gone.xml"].status == "gone"
    assert sender.titles.count("[monitor] Feed failing: Flaky") == 1  # once, not every cycle
    assert sum("Feed gone" in t for t in sender.titles) == 1

    httpserver.clear()
    httpserver.expect_request("/feed.xml").respond_with_data(
        RSS, content_type="application/rss+xml"
    )
    asyncio.run(run_once(service, everything=True))
    health = {h.url.rsplit("/", 1)[1]: h for h in feed_health(engine)}
    assert health["feed.xml"].status == "ok" and health["feed.xml"].consecutive_failures == 0
    assert sender.titles[-1] == "[monitor] Feed recovered: Flaky"
    assert len(httpserver.log) == 1  # the gone feed was not polled again

    listed = monitor(
        "--config",
        str(config_dir),
        "feeds",
        "health",
        "--format",
        "json",
        cwd=config_dir.parent,
        env={"MONITOR_DATABASE_URL": sqlite_url},
    )
    records = {r["url"].rsplit("/", 1)[1]: r for r in json.loads(listed.stdout)}
    assert records["gone.xml"]["status"] == "gone"
    for key in (
        "url",
        "status",
        "error_category",
        "error",
        "consecutive_failures",
        "last_polled_at",
        "next_poll_at",
    ):
        assert key in records["feed.xml"]
    engine.dispose()
