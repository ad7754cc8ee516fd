"""Alert modes through the outbox: debounce, quiet hours, digests, failing channels, spikes,
Apprise configuration files and secrets. Hits are stored as the pipeline stores them, on a real
database, and a frozen clock is moved by hand between delivery passes."""

from __future__ import annotations

import json
import logging
import re
import shutil
import textwrap
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine
from werkzeug import Request, Response

from monitor.alerts.channels import load_alerts
from monitor.alerts.compose import Format
from monitor.alerts.compose import Message as AlertMessage
from monitor.alerts.outbox import DeliveryReport
from monitor.alerts.ports import Sender
from monitor.errors import ConfigError, DeliveryError
from monitor.models import Article, ChannelSpec, Entry, FeedSpec, Match
from monitor.runtime.service import Service
from monitor.store import articles, feeds
from monitor.store.backlog import alert_counts, requeue_failed, undelivered
from tests.conftest import Clock, RecordingSender, free_port, open_database

FEED = "https://news.example/rss"
NOWHERE = "json://127.0.0.1:9/"  # never contacted: these tests hand the outbox their own sender


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def configure(
    config_dir: Path, *, alerts: str, profiles: dict[str, str], monitor: str = ""
) -> None:
    """Write alerts.yaml, monitor.yaml and profiles/ (replacing the shipped profiles)."""
    shutil.rmtree(config_dir / "profiles")
    (config_dir / "profiles").mkdir()
    for name, text in profiles.items():
        (config_dir / "profiles" / f"{name}.yaml").write_text(textwrap.dedent(text))
    (config_dir / "alerts.yaml").write_text(textwrap.dedent(alerts))
    (config_dir / "monitor.yaml").write_text(textwrap.dedent(monitor))


@dataclass
class Monitor:
    """A service on a real database, and a way to store hits the way the pipeline does."""

    service: Service
    engine: Engine
    clock: Clock
    feed_id: int
    stored: int = 0

    def hit(
        self, *profiles: str, at: datetime | None = None, routed_at: datetime | None = None
    ) -> str:
        """Store a new article hit by `profiles` at `at` (default: now), its alerts routed as
        at `routed_at` (default: `at`); returns the article's title."""
        self.stored += 1
        now = at or self.clock()
        title, url = f"Story {self.stored}", f"https://news.example/{self.stored}"
        articles.store_article(
            self.engine,
            feed_id=self.feed_id,
            entry=Entry(f"guid-{self.stored}", url, title, "", now),
            article=Article(url, title, f"text {self.stored} about the firewall"),
            matches=[Match(p, "v1", ["firewall"], 1.0, "the **firewall**") for p in profiles],
            routes=self.service.routes(routed_at or now),
            now=now,
        )
        return title

    def deliver(self) -> DeliveryReport:
        return self.service.outbox.deliver()

    def deliver_at(self, *moments: datetime) -> None:
        for moment in moments:
            self.clock.now = moment
            self.deliver()


@pytest.fixture
def open_monitor(config_dir: Path) -> Iterator[Callable[..., Monitor]]:
    """Open the service of `config_dir` on a database URL, clock and sender."""
    with monitors(config_dir) as opener:
        yield opener


@contextmanager
def monitors(config_dir: Path) -> Iterator[Callable[..., Monitor]]:
    """What open_monitor yields, for other modules' fixtures: engines disposed on leaving."""
    engines: list[Engine] = []

    def open_(url: str, clock: Clock, sender: Sender | None = None) -> Monitor:
        settings, engine = open_database(config_dir, url)
        engines.append(engine)
        service = Service(config_dir, settings, engine, clock=clock, sender=sender)
        feeds.sync_feeds(engine, [FeedSpec(FEED, name="Example News")], clock())
        feed_id = feeds.feed_rows(engine)[FEED].id
        assert feed_id is not None
        return Monitor(service, engine, clock, feed_id)

    yield open_
    for engine in engines:
        engine.dispose()


def sent_to(sender: RecordingSender, channel: str) -> list[str]:
    """Titles of the messages a channel got, in order."""
    return [message.title for key, message in sender.sent if key == channel]


def messages_to(sender: RecordingSender, channel: str) -> list[AlertMessage]:
    return [message for key, message in sender.sent if key == channel]


def digest_groups(body: str) -> list[tuple[str, list[str]]]:
    """A plain-text digest as (profile, titles of its articles) in the order shown: each
    article is listed once ("* title"), with a "  profile: terms" line per profile."""
    groups: dict[str, list[str]] = {}
    title = ""
    for line in body.splitlines():
        if line.startswith("* "):
            title = line[2:]
        elif profile := re.match(r"  ([\w-]+): ", line):
            groups.setdefault(profile.group(1), []).append(title)
    return list(groups.items())


class FailingSender(RecordingSender):
    """Raises DeliveryError for one channel key (while `failing` is set), records the rest;
    every attempt, failed or not, is kept in `attempts`."""

    def __init__(self, failing: str | None) -> None:
        super().__init__("text")
        self.failing = failing
        self.attempts: list[tuple[str, AlertMessage]] = []

    def send(self, channel: ChannelSpec, message: AlertMessage) -> None:
        self.attempts.append((channel.key, message))
        if channel.key == self.failing:
            raise DeliveryError(f"channel {channel.key}: connection refused (test)")
        super().send(channel, message)

    def format_for(self, channel: ChannelSpec) -> Format:
        return "text"


# -- debounce --------------------------------------------------------------------------------


def test_debounce_sends_the_limit_then_one_digest_for_the_rest(
    database_url: str, config_dir: Path, open_monitor: Callable[..., Monitor]
) -> None:
    configure(
        config_dir,
        alerts=f"""
            channels:
              - {{url: "{NOWHERE}team", name: team}}
              - {{url: "{NOWHERE}desk", name: desk, tags: [wic]}}
        """,
        profiles={"gfw": "query: firewall\ntags: [gfw]\n", "wic": "query: wuzhen\ntags: [wic]\n"},
        monitor="alerts:\n  debounce_count: 2\n  debounce_window: 1h\n",
    )
    sender = RecordingSender("text")
    clock = Clock(utc(2026, 6, 1, 10, 5))  # the window is 10:00–11:00 UTC
    monitor = open_monitor(database_url, clock, sender)
    for _ in range(5):  # gfw goes to team only
        monitor.hit("gfw")
        monitor.deliver()
        clock.advance(minutes=5)
    for _ in range(2):  # wic goes to team and desk, in the same window
        monitor.hit("wic")
        monitor.deliver()
        clock.advance(minutes=5)

    notice = "[monitor] gfw: more than 2 alerts since 10:00 UTC"
    assert sent_to(sender, "team") == [
        "[gfw] Story 1",
        "[gfw] Story 2",
        notice,
        "[wic] Story 6",  # another profile on the same channel: its own count
        "[wic] Story 7",
    ]
    assert sent_to(sender, "desk") == ["[wic] Story 6", "[wic] Story 7"]  # its own count
    body = messages_to(sender, "team")[2].body
    assert "Profile gfw has sent 2 alerts to this channel since 10:00 UTC" in body
    assert "until 11:00 UTC are gathered into one digest" in body
    assert alert_counts(monitor.engine) == {"sent": 6, "queued": 3}

    monitor.deliver_at(utc(2026, 6, 1, 10, 59, 59))
    assert len(sender.sent) == 7  # the held alerts wait for the window's end
    monitor.deliver_at(utc(2026, 6, 1, 11, 0, 30))
    digest = sender.sent[-1]
    assert digest[0] == "team"
    assert digest[1].title == "[monitor] Alert limit passed: 3 more hits for gfw"
    assert "gfw passed its instant-alert limit" in digest[1].body
    assert digest_groups(digest[1].body) == [("gfw", ["Story 5", "Story 4", "Story 3"])]
    assert alert_counts(monitor.engine) == {"sent": 6, "digested": 3}

    monitor.deliver_at(utc(2026, 6, 1, 11, 30), utc(2026, 6, 1, 13), utc(2026, 6, 2, 9))
    assert len(sender.sent) == 8  # nothing twice


# -- quiet hours -----------------------------------------------------------------------------


def test_quiet_hours_hold_an_alert_until_they_end(
    sqlite_url: str, config_dir: Path, open_monitor: Callable[..., Monitor]
) -> None:
    configure(
        config_dir,
        alerts=f"""
            channels:
              - url: "{NOWHERE}night"
                name: night
                quiet_hours: {{from: "22:00", to: "07:00", timezone: Europe/Berlin}}
              - {{url: "{NOWHERE}day", name: day}}
        """,
        profiles={"gfw": "query: firewall\n"},
    )
    sender = RecordingSender()
    clock = Clock(utc(2026, 6, 1, 21, 30))  # 23:30 in Berlin (CEST)
    monitor = open_monitor(sqlite_url, clock, sender)
    monitor.hit("gfw")
    assert monitor.deliver() == DeliveryReport(sent=1, held=1)
    assert sent_to(sender, "day") == ["[gfw] Story 1"]
    (held,) = undelivered(monitor.engine)
    assert (held.channel, held.status, held.attempts) == ("night", "pending", 0)
    assert held.next_attempt_at == utc(2026, 6, 2, 5)  # 07:00 in Berlin

    monitor.deliver_at(utc(2026, 6, 2, 0), utc(2026, 6, 2, 4, 59, 59))
    assert sent_to(sender, "night") == []
    monitor.deliver_at(utc(2026, 6, 2, 5, 0, 30))
    assert sent_to(sender, "night") == ["[gfw] Story 1"]
    monitor.deliver_at(utc(2026, 6, 2, 5, 10), utc(2026, 6, 2, 21, 30))
    assert sent_to(sender, "night") == ["[gfw] Story 1"]
    assert sent_to(sender, "day") == ["[gfw] Story 1"]
    assert alert_counts(monitor.engine) == {"sent": 2}


# -- digests ---------------------------------------------------------------------------------

MORNING = 'morning: {at: "08:00", timezone: Asia/Shanghai}'  # 00:00 UTC


def test_profile_digest_groups_hits_by_profile_newest_first(
    database_url: str, config_dir: Path, open_monitor: Callable[..., Monitor]
) -> None:
    configure(
        config_dir,
        alerts=f"""
            channels:
              - {{url: "{NOWHERE}team", name: team}}
            digests:
              {MORNING}
        """,
        profiles={
            "gfw": "query: firewall\nalert: digest\ndigest: morning\n",
            "wic": "query: wuzhen\nalert: digest\ndigest: morning\n",
        },
    )
    sender = RecordingSender("text")
    clock = Clock(utc(2026, 6, 1, 2))  # 10:00 in Shanghai
    monitor = open_monitor(database_url, clock, sender)
    for profile in ("gfw", "wic", "gfw", "wic"):
        monitor.hit(profile)
        monitor.deliver()
        clock.advance(hours=1)
    monitor.deliver_at(utc(2026, 6, 1, 23, 59, 59))
    assert sender.sent == []
    assert alert_counts(monitor.engine) == {"queued": 4}

    monitor.deliver_at(utc(2026, 6, 2, 0, 0, 30))
    ((channel, digest),) = sender.sent
    assert channel == "team"
    assert digest.title == "[monitor] Morning digest: 4 hits in 2 profiles"
    assert "Period: 2026-06-01 08:00 CST – 2026-06-02 08:00 CST" in digest.body
    assert digest_groups(digest.body) == [
        ("wic", ["Story 4", "Story 2"]),
        ("gfw", ["Story 3", "Story 1"]),
    ]
    monitor.deliver_at(utc(2026, 6, 2, 1), utc(2026, 6, 3, 0, 0, 30))
    assert len(sender.sent) == 1


def test_channel_digest_holds_an_instant_profile_for_that_channel_only(
    database_url: str, config_dir: Path, open_monitor: Callable[..., Monitor]
) -> None:
    configure(
        config_dir,
        alerts=f"""
            channels:
              - {{url: "{NOWHERE}team", name: team}}
              - {{url: "{NOWHERE}briefing", name: briefing, digest: morning}}
            digests:
              {MORNING}
        """,
        profiles={"gfw": "query: firewall\n"},  # instant
    )
    sender = RecordingSender("text")
    clock = Clock(utc(2026, 6, 1, 2))
    monitor = open_monitor(database_url, clock, sender)
    monitor.hit("gfw")
    monitor.deliver()
    assert sent_to(sender, "team") == ["[gfw] Story 1"]
    assert sent_to(sender, "briefing") == []

    monitor.deliver_at(utc(2026, 6, 2, 0, 0, 30), utc(2026, 6, 2, 1))
    assert sent_to(sender, "team") == ["[gfw] Story 1"]
    assert sent_to(sender, "briefing") == ["[monitor] Morning digest: 1 hit in 1 profile"]
    body = messages_to(sender, "briefing")[0].body
    assert digest_groups(body) == [("gfw", ["Story 1"])]


def test_empty_periods_send_nothing_unless_send_empty(
    database_url: str, config_dir: Path, open_monitor: Callable[..., Monitor]
) -> None:
    configure(
        config_dir,
        alerts=f"""
            channels:
              - {{url: "{NOWHERE}team", name: team}}
            digests:
              morning: {{at: "08:00", timezone: Asia/Shanghai, send_empty: true}}
              evening: {{at: "20:00", timezone: Asia/Shanghai}}
        """,
        profiles={
            "gfw": "query: firewall\nalert: digest\ndigest: morning\n",
            "wic": "query: wuzhen\nalert: digest\ndigest: evening\n",
        },
    )
    sender = RecordingSender("text")
    clock = Clock(utc(2026, 6, 1, 1))  # 09:00 in Shanghai: that day's 08:00 is before the start
    monitor = open_monitor(database_url, clock, sender)
    while clock.now < utc(2026, 6, 4, 1):  # a pass every hour for three days
        if clock.now == utc(2026, 6, 2, 4):
            monitor.hit("gfw")  # 12:00 on 2 June in Shanghai: in the digest of 3 June
        monitor.deliver()
        clock.advance(hours=1)

    assert sent_to(sender, "team") == [
        "[monitor] Morning digest: no hits",  # 2 June
        "[monitor] Morning digest: 1 hit in 1 profile",  # 3 June
        "[monitor] Morning digest: no hits",  # 4 June
    ]  # and no evening digest: that schedule has no send_empty
    first = messages_to(sender, "team")[0].body
    assert "Period: 2026-06-01 08:00 CST – 2026-06-02 08:00 CST" in first
    assert "No hits in this period." in first


def test_hit_stored_after_its_digest_went_out_gets_a_follow_up(
    database_url: str, config_dir: Path, open_monitor: Callable[..., Monitor]
) -> None:
    configure(
        config_dir,
        alerts=f"""
            channels:
              - {{url: "{NOWHERE}team", name: team}}
            digests:
              {MORNING}
        """,
        profiles={"gfw": "query: firewall\nalert: digest\ndigest: morning\n"},
    )
    sender = RecordingSender("text")
    clock = Clock(utc(2026, 6, 1, 2))
    monitor = open_monitor(database_url, clock, sender)
    monitor.hit("gfw")
    monitor.deliver_at(utc(2026, 6, 2, 0, 0, 30))
    assert sent_to(sender, "team") == ["[monitor] Morning digest: 1 hit in 1 profile"]

    # routed before 08:00 (a slow poll), stored after that digest was sent
    clock.now = utc(2026, 6, 2, 0, 10)
    monitor.hit("gfw", routed_at=utc(2026, 6, 1, 23))
    monitor.deliver()
    monitor.deliver_at(utc(2026, 6, 2, 1))
    first, follow_up = messages_to(sender, "team")
    assert digest_groups(first.body) == [("gfw", ["Story 1"])]
    assert follow_up.title == "[monitor] Morning digest: 1 hit in 1 profile"
    assert digest_groups(follow_up.body) == [("gfw", ["Story 2"])]
    assert alert_counts(monitor.engine) == {"digested": 2}


# -- failing channel -------------------------------------------------------------------------


def test_failing_channel_is_reported_to_system_channels_once_a_day(
    database_url: str, config_dir: Path, open_monitor: Callable[..., Monitor]
) -> None:
    configure(
        config_dir,
        alerts=f"""
            channels:
              - {{url: "{NOWHERE}broken", name: broken}}
              - {{url: "{NOWHERE}ops", name: ops, tags: [system]}}
        """,
        profiles={"gfw": "query: firewall\ntags: [gfw]\n"},
        monitor="alerts:\n  max_attempts: 5\n  retry_delay: 1m\n  channel_failures: 3\n",
    )
    sender = FailingSender("broken")
    clock = Clock(utc(2026, 6, 1, 10))
    monitor = open_monitor(database_url, clock, sender)

    def passes(count: int) -> None:
        for _ in range(count):  # 10 minutes: past every retry delay (1, 2, 4, 8 minutes)
            monitor.deliver()
            clock.advance(minutes=10)

    failing = "[monitor] Channel broken is failing"
    monitor.hit("gfw")
    passes(2)
    assert sent_to(sender, "ops") == []
    passes(1)  # the third failed attempt
    assert sent_to(sender, "ops") == [failing]
    body = messages_to(sender, "ops")[0].body
    assert "Delivery to channel broken failed 3 times in a row" in body
    assert "connection refused (test)" in body

    monitor.hit("gfw")  # fails three times the same day: no second notice
    passes(6)
    assert sent_to(sender, "ops") == [failing]
    assert [a.status for a in undelivered(monitor.engine)] == ["failed", "failed"]
    assert [a.attempts for a in undelivered(monitor.engine)] == [5, 5]
    assert all(
        "connection refused (test)" in (a.last_error or "") for a in undelivered(monitor.engine)
    )

    clock.now = utc(2026, 6, 2, 10)
    monitor.hit("gfw")  # the next day, a new notice
    passes(3)
    assert sent_to(sender, "ops") == [failing, failing]
    tried = Counter(m.title for key, m in sender.attempts if key == "broken")
    assert tried == {"[gfw] Story 1": 5, "[gfw] Story 2": 5, "[gfw] Story 3": 3}  # no notice

    assert requeue_failed(monitor.engine, clock()) == 2
    assert [(a.status, a.attempts) for a in undelivered(monitor.engine)] == [
        ("pending", 0),
        ("pending", 0),
        ("pending", 3),
    ]
    sender.failing = None  # the channel is back
    passes(1)
    assert sent_to(sender, "broken") == ["[gfw] Story 1", "[gfw] Story 2", "[gfw] Story 3"]
    assert alert_counts(monitor.engine) == {"sent": 3}


# -- spikes ----------------------------------------------------------------------------------


def test_spike_notice_for_a_profile_well_above_its_own_rate(
    database_url: str, config_dir: Path, open_monitor: Callable[..., Monitor]
) -> None:
    configure(
        config_dir,
        alerts=f"""
            channels:
              - {{url: "{NOWHERE}ops", name: ops, tags: [system]}}
        """,
        profiles=dict.fromkeys(("surging", "newcomer", "steady"), "query: firewall\n"),
        monitor="alerts:\n  spike_min_hits: 5\n  spike_window: 1h\n  spike_factor: 4\n",
    )
    sender = RecordingSender("text")
    now = utc(2026, 6, 10, 12, 20)
    clock = Clock(now)
    monitor = open_monitor(database_url, clock, sender)
    for hours in range(6, 78, 6):  # one hit every six hours for three days
        monitor.hit("surging", at=now - timedelta(hours=hours))
    for hour in range(1, 27):  # five hits an hour for a day and more: its usual rate
        for minute in (5, 17, 29, 41, 53):
            monitor.hit("steady", at=utc(2026, 6, 9, 10, minute) + timedelta(hours=hour))
    monitor.hit("newcomer", at=now - timedelta(hours=20))  # less than a day of history
    for minutes in range(2, 34, 4):  # then eight in the last 35 minutes
        monitor.hit("surging", at=now - timedelta(minutes=minutes))
        monitor.hit("newcomer", at=now - timedelta(minutes=minutes))

    assert monitor.service.spike_notices() == 1
    monitor.deliver()
    assert sent_to(sender, "ops") == ["[monitor] Spike in profile surging: 8 hits"]
    body = messages_to(sender, "ops")[0].body
    assert "Profile surging stored 8 hits since 2026-06-10 11:20 UTC" in body

    clock.advance(minutes=20)  # 12:40: the same window (12:00–13:00)
    monitor.hit("surging")
    assert monitor.service.spike_notices() == 0  # one notice per profile per window
    monitor.deliver()
    assert sent_to(sender, "ops") == ["[monitor] Spike in profile surging: 8 hits"]


# -- Apprise configuration files -------------------------------------------------------------


def test_apprise_config_file_channel_delivers_through_apprise(
    sqlite_url: str,
    config_dir: Path,
    open_monitor: Callable[..., Monitor],
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    received: list[dict[str, Any]] = []

    def hook(request: Request) -> Response:
        received.append(json.loads(request.get_data()))
        return Response("ok")

    httpserver.expect_request("/hooks/t0k3n", method="POST").respond_with_handler(hook)
    (config_dir / "apprise.yml").write_text(
        f"version: 1\nurls:\n  - json://127.0.0.1:{httpserver.port}/${{HOOK_PATH}}\n"
    )
    configure(
        config_dir,
        alerts="channels:\n  - config: apprise.yml\n    name: hook\n",
        profiles={"gfw": "query: firewall\n"},
    )
    monkeypatch.setenv("HOOK_PATH", "hooks/t0k3n")
    monitor = open_monitor(sqlite_url, Clock(utc(2026, 6, 1, 10)))  # the real Notifier
    monitor.hit("gfw")
    assert monitor.deliver() == DeliveryReport(sent=1)
    assert [payload["title"] for payload in received] == ["[gfw] Story 1"]
    assert "Story 1" in received[0]["message"]


@pytest.mark.parametrize(
    ("apprise_file", "message"),
    [
        ("version: 1\nurls:\n  - not a url\n", "Apprise found no notification URL in apprise.yml"),
        ("urls:\n  - json://127.0.0.1/${NOT_SET}\n", "environment variable NOT_SET is not set"),
        (None, "cannot read the Apprise configuration file"),
    ],
)
def test_bad_apprise_config_file_is_a_config_error(
    config_dir: Path, apprise_file: str | None, message: str
) -> None:
    if apprise_file is not None:
        (config_dir / "apprise.yml").write_text(apprise_file)
    (config_dir / "alerts.yaml").write_text("channels:\n  - config: apprise.yml\n")
    with pytest.raises(ConfigError) as caught:
        load_alerts(config_dir, env={})
    assert caught.value.path == str(config_dir / "alerts.yaml")
    assert caught.value.line == 2
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{config_dir / 'alerts.yaml'}:2: channels[0].config")


# -- secrets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("failure", ["connection refused", "HTTP 500"])
def test_channel_secrets_never_reach_errors_logs_or_repr(
    failure: str,
    sqlite_url: str,
    config_dir: Path,
    open_monitor: Callable[..., Monitor],
    httpserver: HTTPServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    password, token = "s3cr3t-pass", "t0k3n-4f9a2c"
    httpserver.expect_request(f"/hook/{token}").respond_with_data(f"no, {token}", status=500)
    port = httpserver.port if failure == "HTTP 500" else free_port()  # nothing listens there
    url = f"json://user:{password}@127.0.0.1:{port}/hook/{token}"
    configure(
        config_dir, alerts=f"channels:\n  - url: {url}\n", profiles={"gfw": "query: firewall\n"}
    )
    caplog.set_level(logging.DEBUG)
    monitor = open_monitor(sqlite_url, Clock(utc(2026, 6, 1, 10)))  # the real Notifier
    monitor.hit("gfw")
    assert monitor.deliver() == DeliveryReport(retrying=1)

    (channel,) = monitor.service.loaded.alerts.channels
    assert channel.url == url  # the secrets are there to be used …
    (alert,) = undelivered(monitor.engine)
    assert alert.channel == channel.key
    assert alert.last_error is not None and "delivery failed" in alert.last_error
    shown = [repr(channel), str(channel), channel.key, alert.last_error]
    logged = [  # what the service's log set-up lets through (monitor.logs quiets Apprise)
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.WARNING or record.name.startswith("monitor")
    ]
    assert any(line.startswith(f"delivery to {channel.key} failed") for line in logged)
    for text in shown + logged:
        assert password not in text and token not in text  # … and shown nowhere
    assert all(password not in record.getMessage() for record in caplog.records)  # not even DEBUG
