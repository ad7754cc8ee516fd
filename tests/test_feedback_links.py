"""The feedback links in alerts: signed per hit, verdict and expiry with the database's key;
the page they open works without signing in, records nothing on GET, records the verdict on
POST, and refuses a link with its hit, verdict or expiry changed (403) or expired (410). End
to end: an alert e-mailed to a real SMTP server and a digest posted to a real webhook carry
links that, followed, record the feedback."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import Message as Email
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine

from monitor.alerts.compose import AlertItem
from monitor.alerts.feedbacklinks import BadLink, FeedbackLinks, public_url, sign, verify
from monitor.alerts.render import Templates
from monitor.config.settings import Settings, load_settings
from monitor.errors import ConfigError
from monitor.models import Article, Entry, FeedSpec, Hit, Match, Route
from monitor.runtime.service import Service
from monitor.store import articles, feeds
from monitor.store.hits import hit_by_id, query_hits
from monitor.store.sitekeys import site_key
from tests.conftest import Clock, Mailbox, open_database
from tests.loopback import json_webhook
from tests.test_docs_messages import FIREWALL  # a sample hit (id 0: never stored)
from tests.test_web_api import _serve
from tests.test_web_pages import Client

KEY = b"k" * 32
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TOKEN = "a-long-enough-web-token"
FEED = "https://news.example/rss"
HOSTILE = '<img src=x onerror=alert(1)> Firewall "news"'

# ---- signing ---------------------------------------------------------------------------


def test_a_signed_link_gives_its_verdict_on_its_hit_until_it_expires() -> None:
    later = NOW + timedelta(days=30)
    signed = sign(KEY, 42, False, later)
    given = verify(KEY, signed, NOW)
    assert (given.hit_id, given.relevant, given.expires) == (42, False, later)
    assert verify(KEY, sign(KEY, 42, True, later), NOW).relevant is True

    hit_id, verdict, expiry, mac = signed.split(".")
    changed = {
        "another hit": f"43.{verdict}.{expiry}.{mac}",
        "the other verdict": f"{hit_id}.r.{expiry}.{mac}",
        "a later expiry": f"{hit_id}.{verdict}.{int(expiry) + 86400}.{mac}",
        "another key": sign(b"x" * 32, 42, False, later),
        "a cut signature": signed[:-1],
        "garbage": "../../etc/passwd",
        "a sign": f"+42.{verdict}.{expiry}.{mac}",
    }
    for what, link in changed.items():
        with pytest.raises(BadLink) as refused:
            verify(KEY, link, NOW)
        assert refused.value.status == 403, what
    with pytest.raises(BadLink) as expired:
        verify(KEY, signed, later)
    assert expired.value.status == 410 and "expired on 2026-12-31" in expired.value.message


def test_links_are_made_for_stored_hits_only() -> None:
    asked: list[int] = []

    def key() -> bytes:
        asked.append(1)
        return KEY

    links = FeedbackLinks("https://monitor.example.org/", key, timedelta(days=30), lambda: NOW)
    assert links.for_hits(()) == {} and asked == []  # the key is read when first needed
    assert links.for_hit(FIREWALL) is None
    made = links.for_hit(_with_id(FIREWALL, 7))
    assert made is not None and asked == [1]
    assert made.relevant.startswith("https://monitor.example.org/feedback/7.r.")
    assert verify(KEY, made.not_relevant.rsplit("/", 1)[1], NOW).relevant is False
    links.for_hit(_with_id(FIREWALL, 8))
    assert asked == [1]  # once


def test_a_message_goes_without_links_when_the_key_cannot_be_read() -> None:
    def broken() -> bytes:
        raise RuntimeError("database unreachable (test)")

    links = FeedbackLinks("https://monitor.example.org", broken, timedelta(days=1), lambda: NOW)
    item = AlertItem(_with_id(FIREWALL, 7))
    message = Templates().alert(item, "text", links=links)
    assert "/feedback/" not in message.body and FIREWALL.title in message.body
    working = FeedbackLinks(
        "https://monitor.example.org", lambda: KEY, timedelta(days=1), lambda: NOW
    )
    shown = Templates().alert(item, "text", links=working).body
    assert "Relevant to great_firewall?\n  yes: https://monitor.example.org/feedback/7.r." in shown


def _with_id(hit: Hit, hit_id: int) -> Hit:
    return replace(hit, id=hit_id)


def _settings(tmp_path: Path, text: str) -> Settings:
    (tmp_path / "monitor.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return load_settings(tmp_path, env={})


def test_where_links_point(tmp_path: Path) -> None:
    assert public_url(_settings(tmp_path, "")) == "http://127.0.0.1:9464"
    given = "web:\n  public_url: https://monitor.example.org/news/\n"
    assert public_url(_settings(tmp_path, given)) == "https://monitor.example.org/news"
    assert public_url(_settings(tmp_path, "server:\n  host: ::1\n")) == "http://[::1]:9464"
    assert public_url(_settings(tmp_path, "server:\n  host: monitor.lan\n  port: 80\n")) == (
        "http://monitor.lan:80"
    )
    for nowhere in ("server:\n  enabled: false\n", "server:\n  port: 0\n"):
        assert public_url(_settings(tmp_path, nowhere)) is None, nowhere
    wildcard = "server:\n  host: 0.0.0.0\nweb:\n  token: a-long-enough-web-token\n"
    assert public_url(_settings(tmp_path, wildcard)) is None
    for bad in ("ftp://monitor.example.org", "https://", "https://m.example/?a=1", "monitor"):
        with pytest.raises(ConfigError) as refused:
            _settings(tmp_path, f"web:\n  public_url: '{bad}'\n")
        assert "web.public_url" in str(refused.value), bad


# ---- the link page ---------------------------------------------------------------------


def _store(engine: Engine, n: int, title: str, profile: str = "great_firewall") -> int:
    url = f"https://news.example/{n}"
    articles.store_article(
        engine,
        feed_id=feeds.feed_rows(engine)[FEED].id or 0,
        entry=Entry(f"g{n}", url, title, "", NOW),
        article=Article(url, title, f"text {n}", language="en"),
        matches=[Match(profile, "v1", ["firewall"], 1.0, "the **firewall** <b>again</b>")],
        routes={profile: [Route("mail")]},
        now=NOW,
    )
    return next(h.id for h in query_hits(engine) if h.url == url)


@pytest.fixture
def hit(engine: Engine) -> int:
    feeds.sync_feeds(engine, [FeedSpec(FEED, name="Example")], NOW)
    _store(engine, 1, "Another story")
    return _store(engine, 2, HOSTILE)


@pytest.fixture
def guarded(engine: Engine, hit: int, config_dir: Path) -> Iterator[Client]:
    """The application with a token and reads closed: a link must work without it."""
    for served in _serve(engine, config_dir, TOKEN):
        yield Client(served.base)


def _link(engine: Engine, hit_id: int, relevant: bool, days: float = 30) -> str:
    expires = datetime.now(UTC) + timedelta(days=days)
    return "/feedback/" + sign(site_key(engine, "feedback"), hit_id, relevant, expires)


def test_a_link_confirms_then_records_without_signing_in(
    guarded: Client, engine: Engine, hit: int
) -> None:
    link = _link(engine, hit, False)
    shown = guarded.request(link)
    assert shown.status == 200, shown.text
    html = shown.html()
    assert html.xpath("//h1/text()") == ["Is this hit not relevant?"]
    assert html.xpath("//article//h2/a/text()") == [HOSTILE]  # text, never markup
    assert not html.xpath("//img") and not html.xpath("//script")
    assert html.xpath("//p[@class='snippet']/mark/text()") == ["firewall"]
    assert "great_firewall" in html.xpath("//p[@class='meta']")[0].text_content()
    [form] = html.xpath("//form[@class='feedback-link']")
    assert (form.get("method"), form.get("action")) == ("post", link)
    assert form.xpath(".//button/text()") == ["Confirm: not relevant"]
    for _ in range(3):  # a mail scanner opening it, a person opening it twice
        assert guarded.request(link).status == 200
    assert hit_by_id(engine, hit).feedback is None  # type: ignore[union-attr]

    done = guarded.request(link, "POST", {"note": "not about censorship"})
    assert done.status == 200, done.text
    assert done.html().xpath("//h1/text()") == ["Recorded: not relevant"]
    stored = hit_by_id(engine, hit)
    assert stored is not None and stored.feedback is not None
    assert (stored.feedback.relevant, stored.feedback.note, stored.feedback.by) == (
        False,
        "not about censorship",
        "alert link",
    )
    other = guarded.request(_link(engine, hit, True), "POST", {})
    assert other.status == 200
    assert hit_by_id(engine, hit).feedback.relevant is True  # type: ignore[union-attr]


def test_a_changed_or_expired_link_is_refused(guarded: Client, engine: Engine, hit: int) -> None:
    others = [h.id for h in query_hits(engine) if h.id != hit]
    good = _link(engine, hit, False)
    hit_id, verdict, expiry, mac = good.removeprefix("/feedback/").split(".")
    for changed in (
        f"{others[0]}.{verdict}.{expiry}.{mac}",  # another hit
        f"{hit_id}.r.{expiry}.{mac}",  # the other verdict
        f"{hit_id}.{verdict}.{int(expiry) + 3600}.{mac}",  # a later expiry
        f"{hit_id}.{verdict}.{expiry}.{'A' * 43}",
        "12345",
    ):
        for method in ("GET", "POST"):
            refused = guarded.request(
                f"/feedback/{changed}", method, {} if method == "POST" else None
            )
            assert refused.status == 403, (changed, method)
            assert "feedback link" in refused.text
    expired = _link(engine, hit, False, days=-1)
    for method in ("GET", "POST"):
        gone = guarded.request(expired, method, {} if method == "POST" else None)
        assert gone.status == 410 and "expired on" in gone.text
    assert [h.feedback for h in query_hits(engine)] == [None, None]
    assert guarded.request(f"/hits/{hit}").status == 303  # the rest still needs the token


# ---- end to end: an alert's links, followed --------------------------------------------


def _follow(client: Client, url: str, note: str = "") -> None:
    """Open a link from a message (GET), then press its button (POST)."""
    path = urlsplit(url).path
    assert client.request(path).status == 200
    assert client.request(path, "POST", {"note": note}).status == 200


def _text(mail: Email, kind: str) -> str:
    for part in mail.walk():
        if part.get_content_type() == kind:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no {kind} part")


def _configure(config_dir: Path, channels: str, base: str, profiles: dict[str, str]) -> None:
    for old in (config_dir / "profiles").glob("*.yaml"):
        old.unlink()
    for name, text in profiles.items():
        (config_dir / "profiles" / f"{name}.yaml").write_text(text, encoding="utf-8")
    (config_dir / "alerts.yaml").write_text(channels, encoding="utf-8")
    (config_dir / "monitor.yaml").write_text(f"web:\n  public_url: {base}/\n", encoding="utf-8")


def _publish(service: Service, engine: Engine, n: int, title: str, profiles: list[str]) -> None:
    now = service.clock()
    url = f"https://news.example/story-{n}"
    articles.store_article(
        engine,
        feed_id=feeds.feed_rows(engine)[FEED].id or 0,
        entry=Entry(f"guid-{n}", url, title, "", now),
        article=Article(url, title, f"{title}. Body.", language="en", published_at=now),
        matches=[Match(p, "v1", ["firewall"], 1.0, "the **firewall**") for p in profiles],
        routes=service.routes(now),
        now=now,
    )


def test_an_emailed_alert_carries_working_links(
    database_url: str,
    config_dir: Path,
    smtp_server: tuple[Controller, Mailbox],
    tmp_path: Path,
) -> None:
    controller, mailbox = smtp_server
    _, engine = open_database(config_dir, database_url)
    for served in _serve(engine, config_dir, TOKEN):
        mail = f"mailto://127.0.0.1:{controller.port}?from=m@example.org&to=a@example.org"
        _configure(
            config_dir,
            f"channels:\n  - url: {mail}\n    name: mail\n",
            served.base,
            {"gfw": "query: firewall\n", "wic": "query: firewall\n"},
        )
        clock = Clock(datetime.now(UTC))
        service = Service(config_dir, _loaded(config_dir, database_url), engine, clock=clock)
        feeds.sync_feeds(engine, [FeedSpec(FEED, name="News")], clock())
        _publish(service, engine, 1, "Firewall tightened", ["gfw", "wic"])

        report = service.outbox.deliver()

        assert report.sent == 2  # two rows, one message naming both profiles
        [message] = mailbox.messages
        html = _text(message, "text/html")
        links = re.findall(r'href="([^"]+/feedback/[^"]+)"', html)
        assert len(links) == 4  # relevant / not relevant for each profile's hit
        assert all(link.startswith(served.base + "/feedback/") for link in links)
        hits = {h.profile: h.id for h in query_hits(engine)}
        by_hit = {verify_path(engine, link): link for link in links}
        assert set(by_hit) == {(hits["gfw"], True), (hits["gfw"], False),
                               (hits["wic"], True), (hits["wic"], False)}  # fmt: skip
        assert "Relevant to gfw?" in _text(message, "text/plain")  # Apprise's plain copy

        client = Client(served.base)
        _follow(client, by_hit[(hits["gfw"], False)], "wrong sense")
        _follow(client, by_hit[(hits["wic"], True)])
        gfw, wic = hit_by_id(engine, hits["gfw"]), hit_by_id(engine, hits["wic"])
        assert gfw is not None and gfw.feedback is not None and wic is not None
        assert (gfw.feedback.relevant, gfw.feedback.note, gfw.feedback.by) == (
            False,
            "wrong sense",
            "alert link",
        )
        assert wic.feedback is not None and wic.feedback.relevant is True
    engine.dispose()


def _loaded(config_dir: Path, database_url: str) -> Settings:
    """The settings of `config_dir` (its monitor.yaml written once the server's port is
    known), on `database_url`."""
    return load_settings(config_dir, env={"MONITOR_DATABASE_URL": database_url})


def verify_path(engine: Engine, link: str) -> tuple[int, bool]:
    given = verify(site_key(engine, "feedback"), link.rsplit("/", 1)[1], datetime.now(UTC))
    return given.hit_id, given.relevant


def test_a_digest_posted_to_a_webhook_carries_a_link_per_hit(
    database_url: str, config_dir: Path, httpserver: HTTPServer
) -> None:
    url, received = json_webhook(httpserver)
    _, engine = open_database(config_dir, database_url)
    for served in _serve(engine, config_dir, TOKEN):
        _configure(
            config_dir,
            f"channels:\n  - url: {url}\n    name: chat\n    format: markdown\n"
            'digests:\n  hourly: {every: hour, at: ":05"}\n',
            served.base,
            {"gfw": "query: firewall\nalert: digest\ndigest: hourly\n"},
        )
        clock = Clock(datetime.now(UTC).replace(minute=10, second=0, microsecond=0))
        service = Service(config_dir, _loaded(config_dir, database_url), engine, clock=clock)
        feeds.sync_feeds(engine, [FeedSpec(FEED, name="News")], clock())
        for n in (1, 2, 3):
            _publish(service, engine, n, f"Story {n}", ["gfw"])
        service.outbox.deliver()
        assert received == []
        clock.advance(hours=1)
        service.outbox.deliver()

        [digest] = received
        links = re.findall(r"\]\((http[^)]+/feedback/[^)]+)\)", digest["message"])
        hits = sorted(h.id for h in query_hits(engine))
        assert sorted(verify_path(engine, link) for link in links) == sorted(
            (hit_id, verdict) for hit_id in hits for verdict in (True, False)
        )
        client = Client(served.base)
        for link in links:
            if verify_path(engine, link) == (hits[1], False):
                _follow(client, link)
        judged = {h.id: h.feedback for h in query_hits(engine)}
        verdict = judged[hits[1]]
        assert verdict is not None and verdict.relevant is False
        assert judged[hits[0]] is None and judged[hits[2]] is None
    engine.dispose()
