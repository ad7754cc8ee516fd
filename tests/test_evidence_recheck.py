"""Re-checks of hit articles against a site that misbehaves (docs/evidence.md), on SQLite and
PostgreSQL, with a frozen clock and a real HTTP server on loopback that also takes the
notices (a JSON webhook). After the first cycle the site edits one article, deletes two (404,
410), redirects one to its home page, replaces one with a "deleted for violating rules" page
in Chinese, answers a soft 404 for one, fails for a while on one and leaves one alone: each
is classified as it should be, with one notice each for the edit and the removals and none
for the flaky one; a second pass announces a new edit but not a page that stays removed."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.request
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator
from werkzeug import Request, Response

from monitor.cli import app
from monitor.runtime.lifecycle import recheck_once, run_once
from monitor.runtime.service import Service
from monitor.store.evidence import versions
from monitor.store.hits import query_hits
from tests.conftest import Clock, open_database
from tests.newsroom import article_page
from tests.test_web_api import _serve as serve_app

pytestmark = pytest.mark.slow  # whole cycles with extraction workers

START = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
NAMES = ("edited", "gone404", "gone410", "home", "censored", "soft404", "flaky", "steady")
GENERIC = article_page(
    "Example News",
    [
        "Welcome to Example News, your source for the latest stories from around the region.",
        "The page you followed may have moved. Browse today's top stories and our sections.",
    ],
)


def _paragraphs(name: str, version: int) -> list[str]:
    lead = f"The Great Firewall blocked more foreign sites this week, the {name} report says."
    middle = "Engineers said the blocking began on Monday and reached mobile networks first."
    if version == 2:
        middle = "Engineers said the blocking began on Tuesday and spared mobile networks."
    if version == 3:
        middle = "Engineers now say the blocking began on Wednesday, and only in two provinces."
    return [
        lead,
        middle,
        "Officials did not comment on the change, which followed new rules on online content.",
        f"Researchers studying the {name} case said circumvention tools still worked.",
    ]


class Site:
    """A news site whose articles change when the test says so."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.phase = "original"  # then "after", then "later"
        self.notices: list[dict[str, Any]] = []

    def url(self, name: str) -> str:
        return self.server.url_for(f"/news/2026/{name}.html")

    def page(self, request: Request) -> Response:
        name = request.path.rsplit("/", 1)[-1].removesuffix(".html")
        if name not in NAMES:
            return Response(GENERIC, content_type="text/html")  # a soft 404 for anything
        if self.phase == "original" or name == "steady":
            return _html(article_page(f"{name} report", _paragraphs(name, 1)))
        return self._changed(name)

    def _changed(self, name: str) -> Response:
        """What each article answers once the site has changed."""
        if name == "edited":
            version = 2 if self.phase == "after" else 3
            return _html(article_page(f"{name} report", _paragraphs(name, version)))
        if name in ("gone404", "gone410"):
            return Response("gone", status=int(name[-3:]))
        if name == "home":
            return Response("", status=302, headers={"Location": self.server.url_for("/")})
        if name == "censored":
            return _html(article_page("微信公众平台", ["此内容因违规无法查看"], lang="zh"))
        if name == "soft404":
            return Response(GENERIC, content_type="text/html")
        if self.phase == "after":  # flaky: down for the first re-checks, then back unchanged
            return Response("busy", status=503)
        return _html(article_page(f"{name} report", _paragraphs(name, 1)))

    def hook(self, request: Request) -> Response:
        self.notices.append(json.loads(request.get_data()))
        return Response("ok")


def _html(text: str) -> Response:
    return Response(text, content_type="text/html; charset=utf-8")


def _serve(httpserver: HTTPServer, site: Site | None = None) -> Site:
    site = site or Site(httpserver)
    items = "".join(
        f"<item><title>{name} report</title><link>{site.url(name)}</link><guid>{name}</guid>"
        "<pubDate>Mon, 07 Dec 2026 07:00:00 GMT</pubDate></item>"
        for name in NAMES
    )
    feed = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    )
    httpserver.expect_request("/feed").respond_with_data(feed, content_type="application/rss+xml")
    httpserver.expect_request("/hook", method="POST").respond_with_handler(site.hook)
    httpserver.expect_request("/").respond_with_data(GENERIC, content_type="text/html")
    httpserver.expect_request(re.compile("^/news/.*")).respond_with_handler(site.page)
    return site


def _configure(config_dir: Path, site: Site, database_url: str) -> None:
    for old in (config_dir / "profiles").glob("*.yaml"):
        old.unlink()
    (config_dir / "profiles" / "gfw.yaml").write_text('query: "great firewall"\n', "utf-8")
    (config_dir / "feeds.yaml").write_text(
        f"feeds:\n  - url: {site.server.url_for('/feed')}\n", encoding="utf-8"
    )
    hook = site.server.url_for("/hook").replace("http://", "json://")
    (config_dir / "alerts.yaml").write_text(
        f"channels:\n  - url: {hook}\n    name: hook\n", encoding="utf-8"
    )
    (config_dir / "monitor.yaml").write_text(
        "extract:\n  workers: 1\n  timeout: 60\nfetch:\n  timeout: 20\n"
        "evidence:\n  recheck: [1h, 1d, 7d]\n  retry: 10m\n  unreachable_after: 3\n"
        f"database_url: {database_url}\n",
        encoding="utf-8",
    )


def _states(engine: Any, site: Site) -> dict[str, list[str]]:
    hits = {hit.url: hit.article_id for hit in query_hits(engine)}
    return {
        name: [v.classification for v in versions(engine, hits[site.url(name)])] for name in NAMES
    }


def test_each_change_is_classified_and_announced_once(
    database_url: str, config_dir: Path, httpserver: HTTPServer
) -> None:
    engine, _, _ = changes_classified_and_announced(database_url, config_dir, httpserver)
    engine.dispose()


def changes_classified_and_announced(
    database_url: str, config_dir: Path, httpserver: HTTPServer
) -> tuple[Any, Site, Path]:
    """The whole story above; the database (open), the site and the evidence folder."""
    site = _serve(httpserver)
    _configure(config_dir, site, database_url)
    settings, engine = open_database(config_dir, database_url)
    clock = Clock(START)
    service = Service(config_dir, settings, engine, clock=clock)
    asyncio.run(run_once(service))
    assert {name: v[:1] for name, v in _states(engine, site).items()} == {
        name: ["original"] for name in NAMES
    }
    alerts = len(site.notices)  # the hits' own alerts
    assert alerts and not any(":" in n["title"].removeprefix("[monitor] ") for n in site.notices)

    site.phase = "after"
    clock.advance(hours=1, minutes=1)
    first = asyncio.run(recheck_once(service))
    states = _states(engine, site)
    assert states["edited"] == ["original", "edited"]
    for name in ("gone404", "gone410", "home", "censored", "soft404"):
        assert states[name] == ["original", "removed"], (name, states[name])
    assert states["steady"] == ["original", "unchanged"]
    assert states["flaky"] == ["original"]  # one failure: tried again later, not reported
    assert first.verdicts["retry"] == 1
    hits = {hit.url: hit.article_id for hit in query_hits(engine)}
    edit = versions(engine, hits[site.url("edited")])[-1]
    assert any("Monday" in s for s in edit.removed) and any("Tuesday" in s for s in edit.added)
    gone = versions(engine, hits[site.url("gone404")])[-1]
    assert gone.http_status == 404 and "404" in gone.reason
    notices = site.notices[alerts:]
    titles = sorted(n["title"].removeprefix("[monitor] ") for n in notices)
    assert len(notices) == 6, titles  # the edit and five removals, one each
    assert sum(t.startswith("Edited:") for t in titles) == 1
    assert sum(t.startswith("Removed:") for t in titles) == 5
    # `monitor hits --changed`: the articles as they are now
    runner = CliRunner()
    shown = runner.invoke(
        app, ["--config", str(config_dir), "hits", "--changed", "removed", "--format", "json"]
    )
    assert shown.exit_code == 0, shown.output
    removed = {site.url(n) for n in ("gone404", "gone410", "home", "censored", "soft404")}
    assert {hit["url"] for hit in json.loads(shown.stdout)} == removed
    assert [h.url for h in query_hits(engine, changed="edited")] == [site.url("edited")]
    edited_notice = next(n for n in notices if "Edited:" in n["title"])
    assert "Tuesday" in edited_notice["message"]

    # the flaky site fails twice more within the retry delay's steps: reported unreachable,
    # never removed, and without a notice
    for _ in range(2):
        clock.advance(minutes=11)
        asyncio.run(recheck_once(service))
    assert _states(engine, site)["flaky"] == ["original", "unreachable"]
    assert len(site.notices) == alerts + 6

    # a day later: a new edit is announced; pages that stay removed are not again
    site.phase = "later"
    clock.advance(days=1)
    asyncio.run(recheck_once(service))
    states = _states(engine, site)
    assert states["edited"] == ["original", "edited", "edited"]
    assert states["gone404"] == ["original", "removed", "removed"]
    assert states["flaky"] == ["original", "unreachable", "unchanged"]  # back, unchanged
    later = site.notices[alerts + 6 :]
    assert [n["title"].removeprefix("[monitor] ").split(":")[0] for n in later] == ["Edited"]
    # nothing is due again at once: no second version, no second notice
    again = asyncio.run(recheck_once(service))
    assert again.checked == 0 and len(site.notices) == alerts + 7
    _the_web_shows_it(engine, config_dir, site, service.keeping.folder)
    return engine, site, service.keeping.folder


def _the_web_shows_it(engine: Any, config_dir: Path, site: Site, folder: Path) -> None:
    """The history of a hit with the diff of each edit, its WARC download, the versions as
    JSON, and the hit list narrowed to articles removed since a day."""
    hits = {hit.url: hit.id for hit in query_hits(engine)}
    edited = hits[site.url("edited")]
    for served in serve_app(engine, config_dir, None, evidence_dir=folder):
        status, _, body = served.get(f"/api/v1/hits/{edited}/evidence")
        assert status == 200
        assert [v["classification"] for v in body] == ["original", "edited", "edited"]
        status, _, html = served.text(f"/hits/{edited}/evidence")
        assert status == 200 and html.count('<h2 id="edit-') == 2
        assert "<del>Engineers said the blocking began on Monday" in html
        assert "<ins>Engineers said the blocking began on Tuesday" in html
        assert "<ins>Engineers now say the blocking began on Wednesday" in html
        with urllib.request.urlopen(f"{served.base}/hits/{edited}/evidence.warc.gz") as got:
            kinds = [r.rec_type for r in ArchiveIterator(BytesIO(got.read()))]
        assert kinds[0] == "warcinfo" and kinds.count("response") == 3  # three bodies
        gone = hits[site.url("gone404")]  # the 404 kept no body: the re-check as metadata
        with urllib.request.urlopen(f"{served.base}/hits/{gone}/evidence.warc.gz") as got:
            records = [
                (r.rec_type, r.content_stream().read())
                for r in ArchiveIterator(BytesIO(got.read()))
            ]
        assert [kind for kind, _ in records] == [
            "warcinfo",
            "response",
            "request",
            "metadata",
            "metadata",
        ]
        said = [json.loads(payload) for kind, payload in records if kind == "metadata"]
        assert [(v["classification"], v["http_status"]) for v in said] == [
            ("removed", 404),
            ("removed", 404),
        ]
        day = START.date().isoformat()
        status, _, listed = served.text(f"/hits?changed=removed&changed_since={day}")
        assert status == 200
        for name in NAMES:
            removed = name in ("gone404", "gone410", "home", "censored", "soft404")
            assert (f"{name} report" in listed) == removed, name
        status, _, later = served.text("/hits?changed=removed&changed_since=2027-01-01")
        assert status == 200 and "gone404 report" not in later
        status, _, missing = served.get("/api/v1/hits/999999/evidence")
        assert status == 404 and "no hit 999999" in json.dumps(missing)
