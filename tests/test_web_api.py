"""The read API over HTTP: a real uvicorn server on 127.0.0.1 serving the application over a
real database (SQLite and PostgreSQL) with hits stored the way the pipeline stores them."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import Engine

from monitor.errors import ConfigError
from monitor.models import Article, Entry, FeedSpec, Match, Route
from monitor.store import articles, feeds
from monitor.web.access import check_binding
from monitor.web.app import create_app
from tests.conftest import free_port, wait_until
from tests.test_cli import monitor

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TOKEN = "a-long-enough-web-token"


def _store(engine: Engine, n: int, profile: str, language: str, title: str) -> None:
    url, published = f"https://news.example/{n}", NOW - timedelta(days=n)
    articles.store_article(
        engine,
        feed_id=feeds.feed_rows(engine)["https://news.example/rss"].id or 0,
        entry=Entry(f"g{n}", url, title, "", published),
        article=Article(url, title, f"text {n}", language=language, published_at=published),
        matches=[Match(profile, "v1", ["term"], 1.0, "the **term**")],
        routes={profile: [Route("mail")]},
        now=NOW - timedelta(hours=n),
    )


@pytest.fixture
def archive(engine: Engine) -> Engine:
    """Five hits: English, Chinese (Simplified and Traditional), Russian."""
    feeds.sync_feeds(engine, [FeedSpec("https://news.example/rss", name="Example")], NOW)
    for n, profile, language, title in [
        (1, "gfw", "en", "Great Firewall tightened"),
        (2, "cac", "zh", "国家网信办发布新规"),
        (3, "gfw", "zh-Hant", "防火長城再升級"),
        (4, "gfw", "ru", "Великий файрвол"),
        (5, "cac", "en", "Regulator drafts rules"),
    ]:
        _store(engine, n, profile, language, title)
    return engine


class Served:
    def __init__(self, base: str) -> None:
        self.base = base

    def get(self, path: str, token: str | None = None) -> tuple[int, dict[str, Any], Any]:
        request = urllib.request.Request(self.base + path)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, dict(answer.headers), json.loads(answer.read())
        except urllib.error.HTTPError as failed:
            return failed.code, dict(failed.headers), json.loads(failed.read())


def _serve(engine: Engine, config_dir: Path, token: str | None) -> Iterator[Served]:
    app = create_app(engine, config_dir, token)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 30, "the web server to start")
    try:
        yield Served(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def api(archive: Engine, config_dir: Path) -> Iterator[Served]:
    yield from _serve(archive, config_dir, None)


def test_hits_come_newest_first_a_page_at_a_time(api: Served) -> None:
    status, headers, first = api.get("/api/v1/hits?limit=2")
    assert status == 200 and "default-src 'none'" in headers["content-security-policy"]
    assert [item["title"] for item in first["items"]] == [
        "Great Firewall tightened",
        "国家网信办发布新规",
    ]
    seen = [item["id"] for item in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        _, _, page = api.get(f"/api/v1/hits?limit=2&cursor={cursor}")
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 5  # every hit once, across the pages
    item = first["items"][0]
    for key in ("profile", "url", "title", "feed", "published_at", "matched_terms", "score"):
        assert key in item
    assert item["story_id"] and item["feed"] == "Example"


def test_filters_narrow_the_list(api: Served) -> None:
    _, _, gfw = api.get("/api/v1/hits?profile=gfw")
    assert {item["profile"] for item in gfw["items"]} == {"gfw"} and len(gfw["items"]) == 3
    _, _, zh = api.get("/api/v1/hits?language=zh")
    assert [item["title"] for item in zh["items"]] == ["国家网信办发布新规"]
    since = (NOW - timedelta(days=2, hours=12)).isoformat().replace("+00:00", "Z")
    _, _, recent = api.get(f"/api/v1/hits?since={since}")
    assert len(recent["items"]) == 2  # published 1 and 2 days ago
    _, _, none = api.get("/api/v1/hits?feed=Nowhere")
    assert none == {"items": [], "next_cursor": None}


def test_one_hit_feeds_and_profiles(api: Served) -> None:
    _, _, page = api.get("/api/v1/hits?limit=1")
    hit_id = page["items"][0]["id"]
    status, _, one = api.get(f"/api/v1/hits/{hit_id}")
    assert status == 200 and one == page["items"][0]
    _, _, listed = api.get("/api/v1/feeds")
    assert [feed["url"] for feed in listed["items"]] == ["https://news.example/rss"]
    _, _, profiles = api.get("/api/v1/profiles")
    assert "great_firewall" in {p["name"] for p in profiles["items"]}
    status, _, schema = api.get("/openapi.json")
    assert status == 200 and "/api/v1/hits" in schema["paths"]


def test_errors_are_json_never_a_traceback(api: Served) -> None:
    assert api.get("/api/v1/hits/999999")[2] == {
        "error": {"status": 404, "message": "no hit 999999"}
    }
    status, _, bad = api.get("/api/v1/hits?limit=0")
    assert status == 400 and bad["error"]["status"] == 400 and "limit" in bad["error"]["message"]
    status, _, cursor = api.get("/api/v1/hits?cursor=%%%")
    assert status == 400 and "cursor" in cursor["error"]["message"]
    status, _, missing = api.get("/nowhere")
    assert (status, missing["error"]["status"]) == (404, 404)


def test_a_token_guards_every_read_but_healthz(archive: Engine, config_dir: Path) -> None:
    for api in _serve(archive, config_dir, TOKEN):
        assert api.get("/api/v1/hits")[0] == 401
        assert api.get("/api/v1/hits", token="wrong-token-of-some-length")[0] == 401
        status, _, page = api.get("/api/v1/hits", token=TOKEN)
        assert status == 200 and len(page["items"]) == 5
        assert api.get("/healthz")[0] == 200


def test_binding_beyond_loopback_needs_a_token(tmp_path: Path, config_dir: Path) -> None:
    check_binding("127.0.0.1", None)
    check_binding("::1", None)
    check_binding("0.0.0.0", TOKEN)
    with pytest.raises(ConfigError, match=r"web\.token \(MONITOR_WEB_TOKEN\)"):
        check_binding("0.0.0.0", None)
    ran = monitor("--config", str(config_dir), "web", "--host", "0.0.0.0", cwd=tmp_path)
    assert ran.returncode == 2 and "needs web.token" in ran.stderr
