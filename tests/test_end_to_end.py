"""One whole cycle over real loopback servers: feeds and pages served over HTTP, extraction in
worker processes, hits stored on SQLite and PostgreSQL, an e-mail to a real SMTP server and a
JSON webhook to a real HTTP server; then the same cycle again adds and sends nothing."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func
from sqlmodel import Session, select
from werkzeug import Request, Response

from monitor.runtime.lifecycle import run_once
from monitor.runtime.service import Service
from monitor.store.hits import query_hits
from monitor.store.tables import AlertRow, ArticleRow, EntryRow, HitRow
from tests.conftest import open_database
from tests.newsroom import SEED_FILE, SEED_TITLE, ZH_TITLE, serve_newsroom

pytestmark = pytest.mark.slow  # processes, servers or whole cycles: `make test-quick` skips it

SEED_PROFILES = {
    "world_internet_conference",
    "great_firewall",
    "cyber_sovereignty",
    "china_cyber_regulator",
}


def _write_config(config_dir: Path, feeds: list[str], channels: list[tuple[str, str]]) -> None:
    (config_dir / "feeds.yaml").write_text(
        "feeds:\n" + "".join(f"  - url: {url}\n" for url in feeds), encoding="utf-8"
    )
    (config_dir / "alerts.yaml").write_text(
        "channels:\n" + "".join(f"  - url: {url}\n    tags: [{tags}]\n" for url, tags in channels),
        encoding="utf-8",
    )
    (config_dir / "monitor.yaml").write_text(
        "extract:\n  workers: 1\n  timeout: 60\nfetch:\n  timeout: 20\n", encoding="utf-8"
    )


def _html_part(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text/html part in the e-mail")


def _count(engine: Any, table: Any) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def test_one_cycle_stores_hits_and_alerts_once(
    database_url: str,
    config_dir: Path,
    httpserver: HTTPServer,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site = serve_newsroom(httpserver)
    webhook: list[dict[str, Any]] = []

    def receive(request: Request) -> Response:
        webhook.append(json.loads(request.get_data()))
        return Response("ok")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(receive)
    controller, mailbox = smtp_server
    monkeypatch.setenv("TEST_SMTP_PORT", str(controller.port))
    _write_config(
        config_dir,
        feeds=[site.en_feed, site.zh_feed],
        channels=[
            # e-mail only for the conference profile (Apprise spaces e-mails 5.5 s apart) …
            (
                "mailto://127.0.0.1:${TEST_SMTP_PORT}?from=monitor@example.org&to=analyst@example.org",
                "wic",
            ),
            # … the webhook takes every profile
            (httpserver.url_for("/hook").replace("http://", "json://"), ""),
        ],
    )
    settings, engine = open_database(config_dir, database_url)
    service = Service(config_dir, settings, engine)

    report = asyncio.run(run_once(service))

    assert report.feeds_polled == 2
    assert report.feeds_failed == 0
    assert report.entries_new == 4
    hits = query_hits(engine)
    by_url: dict[str, set[str]] = {}
    for hit in hits:
        by_url.setdefault(hit.url, set()).add(hit.profile)
    if SEED_FILE.exists():
        assert by_url[site.seed_url + "?utm_source=rss"] >= SEED_PROFILES
    else:
        assert by_url[site.seed_url + "?utm_source=rss"] & SEED_PROFILES
    assert {"china_cyber_regulator", "great_firewall"} <= by_url[site.zh_url]
    assert site.unrelated_url not in by_url
    assert "great_firewall" in by_url[site.old_url]  # backfilled: stored and matched …

    seed_hit = next(h for h in hits if h.title == SEED_TITLE and h.profile == "great_firewall")
    assert "**" in seed_hit.snippet
    assert any("firewall" in t.lower() for t in seed_hit.matched_terms)
    zh_hit = next(h for h in hits if h.title == ZH_TITLE and h.profile == "china_cyber_regulator")
    assert zh_hit.language in ("zh", "zh-CN", None)

    fresh = [h for h in hits if h.url != site.old_url]  # the old entry is too old to alert
    wic = [h for h in fresh if h.profile == "world_internet_conference"]
    assert len(wic) == 2
    assert report.alerts_created == len(fresh) + len(wic)
    assert report.delivery.sent == len(fresh) + len(wic)  # alerts, counted per hit
    articles = {h.url for h in fresh}
    assert len(webhook) == len(articles)  # one message per article, naming its profiles
    assert len(mailbox.messages) == len(wic)  # the mail channel takes one profile

    mail = next(m for m in mailbox.messages if SEED_TITLE in m["Subject"])
    assert mail["Subject"].startswith("[world_internet_conference]")
    assert mail["To"] == "analyst@example.org"
    html_body = _html_part(mail)
    assert site.seed_url in html_body
    assert "<strong>World Internet Conference</strong>" in html_body  # the marked snippet
    assert "old-gfw" not in json.dumps(webhook)
    zh_hook = next(w for w in webhook if ZH_TITLE in w["title"])
    zh_profiles = {h.profile for h in fresh if h.url == site.zh_url}
    assert all(profile in zh_hook["title"] for profile in zh_profiles)
    assert zh_hook["message"].count("Matched (") == len(zh_profiles)  # each with its terms
    assert site.zh_url in zh_hook["message"]
    assert zh_hook["type"] == "info"

    counts = {t.__name__: _count(engine, t) for t in (ArticleRow, EntryRow, HitRow, AlertRow)}

    again = asyncio.run(run_once(service, everything=True))

    assert again.feeds_polled == 2
    assert again.entries_new == 0
    assert again.hits == 0
    assert again.alerts_created == 0
    assert again.delivery.sent == 0
    assert {
        t.__name__: _count(engine, t) for t in (ArticleRow, EntryRow, HitRow, AlertRow)
    } == counts
    assert len(mailbox.messages) == len(wic)
    assert len(webhook) == len(articles)
    engine.dispose()


def test_alerts_without_channels_go_to_the_log(
    sqlite_url: str, config_dir: Path, httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    site = serve_newsroom(httpserver, now=datetime.now(UTC))
    (config_dir / "feeds.yaml").write_text(f"feeds:\n  - url: {site.zh_feed}\n", encoding="utf-8")
    settings, engine = open_database(config_dir, sqlite_url)
    caplog.set_level("WARNING", logger="monitor.alerts")

    report = asyncio.run(run_once(Service(config_dir, settings, engine)))

    assert report.hits >= 2
    assert report.delivery.sent == report.hits
    logged = [r.getMessage() for r in caplog.records if r.name == "monitor.alerts"]
    assert len(logged) == 1  # one article: one message naming its profiles
    assert all(ZH_TITLE in line and site.zh_url in line for line in logged)
    engine.dispose()
