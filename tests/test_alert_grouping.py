"""Alerts people want to read: one message per article and channel naming every profile it
matched (one per profile where a channel asks for it), digests that list an article once,
a delivery pass that tries each due row once however long it takes, and channel URLs that
Apprise cannot read refused at start."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from monitor.alerts.channels import load_alerts
from monitor.alerts.compose import Message as AlertMessage
from monitor.alerts.compose import Notice
from monitor.alerts.render import Templates
from monitor.errors import ConfigError
from monitor.models import ChannelSpec
from tests.conftest import Clock, RecordingSender, free_port
from tests.newsroom import serve_newsroom
from tests.test_alert_modes import (
    NOWHERE,
    FailingSender,
    Monitor,
    configure,
    digest_groups,
    monitors,
    utc,
)
from tests.test_cli import monitor


@pytest.fixture
def open_monitor(config_dir: Path) -> Iterator[Callable[..., Monitor]]:
    with monitors(config_dir) as opener:
        yield opener


PROFILES = {
    "gfw": "query: firewall\ntags: [desk]\n",
    "cac": "query: firewall\ntags: [desk]\n",
    "wic": "query: firewall\ntags: [desk]\n",
}


def test_one_message_per_article_names_every_profile(
    database_url: str, config_dir: Path, open_monitor: Callable[..., Monitor]
) -> None:
    configure(
        config_dir,
        alerts=f"""
            channels:
              - {{url: "{NOWHERE}desk", name: desk}}
              - {{url: "{NOWHERE}each", name: each, group: profile}}
        """,
        profiles=PROFILES,
    )
    sender = RecordingSender("text")
    monitor = open_monitor(database_url, Clock(utc(2026, 6, 1, 10)), sender)
    first = monitor.hit("gfw", "cac", "wic")
    second = monitor.hit("cac")

    report = monitor.deliver()

    desk = [message for key, message in sender.sent if key == "desk"]
    assert [m.title for m in desk] == [f"[gfw, cac, wic] {first}", f"[cac] {second}"]
    assert "Profiles: gfw, cac, wic" in desk[0].body
    assert desk[0].body.count("Matched (") == 3  # each profile with its terms
    refs = [m.body.rsplit("ref ", 1)[1] for m in desk]
    assert refs[0].count("+") == 2  # the one message carries the three alerts
    each = [message.title for key, message in sender.sent if key == "each"]
    expected = [f"[gfw] {first}", f"[cac] {first}", f"[wic] {first}", f"[cac] {second}"]
    assert sorted(each) == sorted(expected)
    assert report.sent == 8  # alerts (rows) sent: 4 to desk in 2 messages, 4 to each


def test_a_digest_lists_an_article_once_with_its_profiles(
    database_url: str, config_dir: Path, open_monitor: Callable[..., Monitor]
) -> None:
    configure(
        config_dir,
        alerts=f"""
            channels:
              - {{url: "{NOWHERE}desk", name: desk, digest: daily}}
            digests:
              daily: {{at: "08:00"}}
        """,
        profiles=PROFILES,
    )
    sender = RecordingSender("text")
    clock = Clock(utc(2026, 6, 1, 10))
    monitor = open_monitor(database_url, clock, sender)
    both = monitor.hit("gfw", "cac")
    one = monitor.hit("wic")
    monitor.deliver_at(utc(2026, 6, 2, 8, 1))

    [(_, digest)] = sender.sent
    titles = [line[2:] for line in digest.body.splitlines() if line.startswith("* ")]
    assert titles == [one, both]  # newest first, each article once
    assert digest_groups(digest.body) == [("wic", [one]), ("cac", [both]), ("gfw", [both])]


def test_a_pass_tries_each_due_row_once_however_long_it_takes(
    database_url: str, config_dir: Path, open_monitor: Callable[..., Monitor]
) -> None:
    """A dead channel whose attempts outlast the retry delay: `run --once` used to retry the
    same rows again in the same pass, and ran on."""
    configure(
        config_dir,
        alerts=f"""
            channels:
              - {{url: "{NOWHERE}dead", name: dead, group: profile}}
        """,
        profiles=PROFILES,
        monitor="alerts:\n  retry_delay: 1s\n  max_retry_delay: 1s\n  debounce_count: 0\n",
    )

    class SlowDead(FailingSender):
        def send(self, channel: object, message: object) -> None:
            clock.advance(seconds=30)  # each attempt takes long: rows become due again
            super().send(channel, message)  # type: ignore[arg-type]

    clock = Clock(utc(2026, 6, 1, 10))
    sender = SlowDead("dead")
    monitor = open_monitor(database_url, clock, sender)
    for _ in range(4):
        monitor.hit("gfw")

    report = monitor.deliver()

    assert len(sender.attempts) == 4  # one attempt per row, not one per row per batch
    assert (report.sent, report.retrying) == (0, 4)
    clock.advance(minutes=1)
    assert monitor.deliver().retrying == 4  # the next pass tries them again, once each
    assert len(sender.attempts) == 8


def test_a_channel_url_apprise_cannot_read_is_a_configuration_error(config_dir: Path) -> None:
    (config_dir / "alerts.yaml").write_text(
        "channels:\n  - url: json://127.0.0.1/ok\n  - url: nonsense://abc/def\n    name: bad\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_alerts(config_dir)
    assert caught.value.line == 3 and "Apprise does not accept this URL" in str(caught.value)
    assert "nonsense" not in str(caught.value)  # the URL, which may hold a token, is not shown


def test_tokens_written_in_channel_urls_are_secrets(config_dir: Path) -> None:
    (config_dir / "alerts.yaml").write_text(
        "channels:\n  - url: discord://123456789012345678/AbCdEf0123456789TokenTok\n"
        "  - url: json://hooks.example/notifications\n"
    )
    secrets = load_alerts(config_dir).secrets
    assert {"123456789012345678", "AbCdEf0123456789TokenTok"} <= secrets
    assert "notifications" not in secrets and "hooks.example" not in secrets


def test_the_pass_says_when_a_services_spacing_held_it_up(
    database_url: str,
    config_dir: Path,
    open_monitor: Callable[..., Monitor],
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure(
        config_dir,
        alerts=f"""
            channels:
              - {{url: "{NOWHERE}mail", name: mail}}
        """,
        profiles=PROFILES,
    )

    class Spaced(RecordingSender):  # a service Apprise spaces 5.5 s apart, as e-mail
        def spacing(self, channel: ChannelSpec) -> float:
            return 5.5

    monitor = open_monitor(database_url, Clock(utc(2026, 6, 1, 10)), Spaced("html"))
    for _ in range(3):
        monitor.hit("gfw")
    caplog.set_level("WARNING", logger="monitor.alerts")

    report = monitor.deliver()

    assert (report.sent, report.throttled) == (3, 11.0)  # three messages, two waits
    assert any("delivery throttled: mail ~11s" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_run_once_with_a_dead_channel_tries_once_and_exits_1(
    tmp_path: Path, config_dir: Path, httpserver: HTTPServer
) -> None:
    site = serve_newsroom(httpserver)
    (config_dir / "feeds.yaml").write_text(f"feeds:\n  - url: {site.zh_feed}\n")
    (config_dir / "monitor.yaml").write_text("extract:\n  workers: 1\n")
    # a port nothing listens on: every delivery is refused at once
    (config_dir / "alerts.yaml").write_text(
        f"channels:\n  - url: json://127.0.0.1:{free_port()}/hook\n    name: dead\n"
    )

    ran = monitor("--config", str(config_dir), "run", "--once", cwd=tmp_path)

    assert ran.returncode == 1, ran.stderr
    summary = ran.stderr.strip().splitlines()[-1]
    assert summary.startswith("delivery: 0 sent, ") and "kept for a retry" in summary
    assert ran.stdout.count("delivery to dead failed (attempt 1)") == 1  # one message, once
    assert "attempt 2" not in ran.stdout


def test_a_configuration_error_notice_keeps_its_caret_under_the_column() -> None:
    body = (
        "config/profiles/gfw.yaml:3:12: query: unexpected ')'\n"
        "  query: (firewall))\n"
        "                   ^\n\nThe previous configuration stays active until the file is fixed."
    )
    notice = Notice("Configuration not reloaded", body, "config")
    html = Templates().notice(notice, "html").body
    assert "<pre" in html and "\n                   ^\n" in html
    markdown = Templates().notice(notice, "markdown").body
    assert "```\n" in markdown and "\n                   ^\n" in markdown


def test_channels_are_sent_to_at_the_same_time(
    database_url: str, config_dir: Path, open_monitor: Callable[..., Monitor]
) -> None:
    """Each channel's first send waits until the other channel's has begun: a pass that
    served channels one after the other would break the barrier."""
    configure(
        config_dir,
        alerts=f"""
            channels:
              - {{url: "{NOWHERE}mail", name: mail}}
              - {{url: "{NOWHERE}chat", name: chat}}
        """,
        profiles=PROFILES,
    )
    meeting = threading.Barrier(2, timeout=30)

    class Meeting(RecordingSender):
        def send(self, channel: ChannelSpec, message: AlertMessage) -> None:
            if len(self.sent) < 2:
                meeting.wait()  # BrokenBarrierError if the other channel is not being sent to
            super().send(channel, message)

    sender = Meeting("text")
    monitor = open_monitor(database_url, Clock(utc(2026, 6, 1, 10)), sender)
    monitor.hit("gfw")

    assert monitor.deliver().sent == 2
    assert sorted(key for key, _ in sender.sent) == ["chat", "mail"]
