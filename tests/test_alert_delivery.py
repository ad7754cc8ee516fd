"""Alerts through real channels on loopback: an SMTP server (aiosmtpd) and a webhook receiver
(Apprise json://), with a frozen clock; an SMTP outage over several passes."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import Message as Email
from pathlib import Path

from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine

from monitor.models import Article, Entry, FeedSpec, Match
from monitor.runtime.service import Service
from monitor.store import articles, feeds
from monitor.store.backlog import alert_counts
from tests.conftest import Clock, Mailbox, free_port, open_database
from tests.loopback import json_webhook

DAY_BEFORE = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def _mail_url(port: int, to: str = "analyst@example.org") -> str:
    return f"mailto://127.0.0.1:{port}?from=monitor@example.org&to={to}"


def _alerts_yaml(config_dir: Path, channels: str, extra: str = "") -> None:
    (config_dir / "alerts.yaml").write_text("channels:\n" + channels + extra, encoding="utf-8")


def _profiles(config_dir: Path, **texts: str) -> None:
    """Only these profiles (name → file text) instead of the shipped ones."""
    folder = config_dir / "profiles"
    for old in folder.glob("*.yaml"):
        old.unlink()
    for name, text in texts.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")


class Newsdesk:
    """Stores articles and their hits the way the pipeline does, with the service's routes."""

    def __init__(self, service: Service, engine: Engine, clock: Clock) -> None:
        self.service, self.engine, self.clock = service, engine, clock
        feeds.sync_feeds(
            engine, [FeedSpec("https://news.example/rss", name="News Example")], clock()
        )
        self.feed_id = feeds.feed_rows(engine)["https://news.example/rss"].id or 0
        self.count = 0

    def publish(
        self,
        title: str,
        profiles: dict[str, str],
        *,
        story_id: int | None = None,
        published: datetime | None = None,
    ) -> int:
        self.count += 1
        url = f"https://news.example/story-{self.count}"
        now = self.clock()
        matches = [
            Match(name, "v1", [term], 1.0, f"… officials said the **{term}** would stay …")
            for name, term in profiles.items()
        ]
        stored = articles.store_article(
            self.engine,
            feed_id=self.feed_id,
            entry=Entry(f"guid-{self.count}", url, title, "", published or now),
            article=Article(
                url, title, f"{title}. Body text.", language="en", published_at=published or now
            ),
            matches=matches,
            routes=self.service.routes(now),
            now=now,
            story_id=story_id,
        )
        return stored.article_id


def _html(mail: Email) -> str:
    for part in mail.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no HTML part in the e-mail")


def _service(config_dir: Path, database_url: str, clock: Clock) -> tuple[Service, Engine, Newsdesk]:
    settings, engine = open_database(config_dir, database_url)
    service = Service(config_dir, settings, engine, clock=clock)
    return service, engine, Newsdesk(service, engine, clock)


def test_instant_alert_is_an_html_email_with_headline_link_terms_and_snippet(
    database_url: str, config_dir: Path, smtp_server: tuple[Controller, Mailbox]
) -> None:
    controller, mailbox = smtp_server
    _profiles(config_dir, gfw="query: firewall\n")
    _alerts_yaml(config_dir, f"  - url: {_mail_url(controller.port)}\n    name: mail\n")
    clock = Clock(DAY_BEFORE)
    service, engine, desk = _service(config_dir, database_url, clock)
    first = desk.publish(
        "Regulator <b>tightens</b> VPN & firewall rules", {"gfw": "Great Firewall"}
    )
    desk.publish("Same story elsewhere", {"gfw": "Great Firewall"}, story_id=first)

    report = service.outbox.deliver()

    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)  # one per story
    [mail] = mailbox.messages
    assert mail["Subject"] == "[gfw] Regulator <b>tightens</b> VPN & firewall rules"
    assert mail["To"] == "analyst@example.org"
    body = _html(mail)
    assert '<a href="https://news.example/story-1">' in body
    assert "Regulator &lt;b&gt;tightens&lt;/b&gt; VPN &amp; firewall rules" in body
    assert "<strong>Great Firewall</strong>" in body  # the snippet, matches marked
    assert "Matched: Great Firewall" in body
    assert "News Example" in body and "2026-12-02 09:00 UTC" in body
    assert 'href="https://news.example/story-2"' in body  # also carried by
    assert "ref alert-1" in body
    assert service.outbox.deliver().sent == 0
    assert len(mailbox.messages) == 1
    engine.dispose()


def test_daily_digest_goes_out_once_at_its_time_in_its_timezone(
    database_url: str, config_dir: Path, smtp_server: tuple[Controller, Mailbox]
) -> None:
    controller, mailbox = smtp_server
    _profiles(
        config_dir,
        gfw="query: firewall\nalert: digest\ndigest: morning\n",
        cac="query: regulator\nalert: digest\ndigest: morning\n",
    )
    _alerts_yaml(
        config_dir,
        f"  - url: {_mail_url(controller.port)}\n    name: mail\n",
        'digests:\n  morning: {at: "08:00", timezone: Asia/Shanghai}\n',
    )
    clock = Clock(datetime(2026, 12, 2, 1, 0, tzinfo=UTC))  # 09:00 in Shanghai
    service, engine, desk = _service(config_dir, database_url, clock)
    desk.publish("First firewall story", {"gfw": "firewall"})
    clock.advance(hours=3)
    desk.publish("Regulator story", {"cac": "regulator"})
    clock.advance(hours=3)
    desk.publish("Second firewall story", {"gfw": "firewall"})

    clock.now = datetime(2026, 12, 2, 23, 59, 59, tzinfo=UTC)  # 07:59:59 in Shanghai
    assert service.outbox.deliver().sent == 0
    assert mailbox.messages == []
    assert alert_counts(engine) == {"queued": 3}

    clock.now = datetime(2026, 12, 3, 0, 0, 1, tzinfo=UTC)  # 08:00:01 in Shanghai
    assert service.outbox.deliver().sent == 1
    [mail] = mailbox.messages
    assert mail["Subject"] == "[monitor] Morning digest: 3 hits in 2 profiles"
    body = _html(mail)
    assert "2026-12-02 08:00 CST" in body and "2026-12-03 08:00 CST" in body
    assert body.index("Second firewall story") < body.index("First firewall story")  # newest first
    assert "Regulator story" in body and body.count("<strong>firewall</strong>") == 2
    assert alert_counts(engine) == {"digested": 3}

    clock.advance(days=1)  # an empty period: nothing is sent (send_empty is off)
    assert service.outbox.deliver().sent == 0
    assert len(mailbox.messages) == 1
    engine.dispose()


def test_webhook_payload_carries_the_alert_in_markdown(
    database_url: str, config_dir: Path, httpserver: HTTPServer
) -> None:
    url, received = json_webhook(httpserver)
    _profiles(config_dir, gfw="query: firewall\n")
    _alerts_yaml(config_dir, f"  - url: {url}\n    name: hook\n")
    clock = Clock(DAY_BEFORE)
    service, engine, desk = _service(config_dir, database_url, clock)
    first = desk.publish("Firewall [update]: new rules", {"gfw": "Great Firewall"})
    desk.publish("Copy", {"gfw": "Great Firewall"}, story_id=first)

    assert service.outbox.deliver().sent == 1
    [payload] = received
    assert payload["type"] == "info" and payload["version"] == "1.0"
    assert payload["title"] == "[gfw] Firewall [update]: new rules"
    message = payload["message"]
    assert "[Firewall \\[update\\]: new rules](https://news.example/story-1)" in message
    assert "**Great Firewall**" in message
    assert "Great Firewall" in message.split("**Great Firewall**")[0]  # the matched terms
    assert "https://news.example/story-2" in message
    assert "alert-1" in message
    engine.dispose()


def test_smtp_outage_then_every_alert_arrives_once_and_the_webhook_never_repeats(
    database_url: str, config_dir: Path, httpserver: HTTPServer
) -> None:
    mailbox = Mailbox()
    port = free_port()  # nothing listens here until the server "comes back"
    hook_url, received = json_webhook(httpserver)
    _profiles(config_dir, gfw="query: firewall\ntags: [gfw-news]\n")
    (config_dir / "monitor.yaml").write_text(
        "alerts:\n  retry_delay: 1m\n  max_attempts: 8\n  channel_failures: 2\n", encoding="utf-8"
    )
    _alerts_yaml(
        config_dir,
        f"  - url: {_mail_url(port)}\n    name: mail\n    tags: [gfw-news]\n"
        "    throttle: 0\n"
        f"  - url: {hook_url}\n    name: hook\n",
    )
    clock = Clock(DAY_BEFORE)
    service, engine, desk = _service(config_dir, database_url, clock)
    desk.publish("Story one", {"gfw": "firewall"})
    desk.publish("Story two", {"gfw": "firewall"})
    for attempt in range(4):  # several passes while the server is down
        if attempt == 2:
            desk.publish("Story three", {"gfw": "firewall"})
        assert service.outbox.deliver().sent <= 3  # the webhook's, each once
        clock.advance(minutes=3)
    assert mailbox.messages == []
    alerts_to_hook = [p for p in received if not p["title"].startswith("[monitor]")]
    assert sorted(p["title"] for p in alerts_to_hook) == [
        "[gfw] Story one",
        "[gfw] Story three",
        "[gfw] Story two",
    ]
    notices = [p for p in received if p["title"].startswith("[monitor]")]
    assert [p["title"] for p in notices] == ["[monitor] Channel mail is failing"]

    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()  # the mail server is back
    try:
        clock.advance(minutes=30)
        report = service.outbox.deliver()
    finally:
        controller.stop()
    assert report.sent == 3 and report.retrying == 0
    for _ in range(3):
        clock.advance(hours=1)
        assert service.outbox.deliver().sent == 0
    assert sorted(m["Subject"] for m in mailbox.messages) == [
        "[gfw] Story one",
        "[gfw] Story three",
        "[gfw] Story two",
    ]
    assert len(received) == 4  # three alerts and the one notice: nothing repeated
    assert alert_counts(engine) == {"sent": 6}
    engine.dispose()
