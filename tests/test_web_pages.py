"""The pages over HTTP: a real uvicorn server on 127.0.0.1 over a real database (SQLite and
PostgreSQL) holding English, Chinese, Russian and hostile hits stored the way the pipeline
stores them. What a browser receives: status, headers, markup (read with lxml)."""

from __future__ import annotations

import http.client
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import lxml.html
import pytest
from sqlalchemy import Engine

from monitor.models import Article, Entry, FeedSpec, Match, PollRecord, PollResult, Route
from monitor.store import articles, feeds
from monitor.store.stats import counts
from tests.test_web_api import _serve

TOKEN = "a-long-enough-web-token"
MAIN, OTHER = "https://news.example/rss", "https://wire.example/rss"
BROKEN = "https://reader:s3cret@broken.example/rss"
HOSTILE_TITLE = '"><img src=x onerror=alert(1)>'
SCRIPT_TITLE = "<script>alert(1)</script>"
PAGES = ("/", "/hits", "/hits?profile=great_firewall&language=zh", "/feeds", "/login")


@dataclass(frozen=True)
class Story:
    """One stored article with one hit: what the pages are checked against."""

    key: str
    profile: str
    language: str
    title: str
    days_ago: int
    link: str = ""
    snippet: str = "the **Great Firewall** again"
    feed: str = MAIN
    joins: str | None = None  # the key of the article whose story it joins
    sitename: str | None = None


STORIES = [
    Story("en", "great_firewall", "en", "Great Firewall tightened", 0),
    Story("zh", "china_cyber_regulator", "zh", "国家网信办发布新规", 1, snippet="**网信办**发布"),
    Story("hant", "great_firewall", "zh-Hant", "防火長城再升級", 1, snippet="**防火長城**升級"),
    Story("ru", "great_firewall", "ru", "Великий файрвол", 1, snippet="**Великий файрвол** снова"),
    Story("old", "great_firewall", "en", "Firewall history", 3),
    Story("old2", "great_firewall", "en", "Firewall history, part two", 3),
    Story("script", "cyber_sovereignty", "en", SCRIPT_TITLE, 2, link="javascript:alert(1)"),
    Story(
        "img", "cyber_sovereignty", "en", HOSTILE_TITLE, 2,
        snippet="<b>x</b> **<img src=y>** z\u202e",  # a right-to-left override at the end
    ),
    Story(
        "copy", "great_firewall", "en", "Firewall tightened (wire copy)", 0, feed=OTHER,
        joins="en", sitename="Other Wire",
    ),
]  # fmt: skip


def published(days_ago: int, today: date) -> datetime:
    """Noon UTC `days_ago` days before `today`: inside that day whatever the hour now."""
    return datetime.combine(today - timedelta(days=days_ago), time(12), UTC)


def store(engine: Engine, story: Story, today: date, ids: dict[str, int]) -> None:
    url = story.link or f"https://news.example/{story.key}"
    when = published(story.days_ago, today)
    stored = articles.store_article(
        engine,
        feed_id=feeds.feed_rows(engine)[story.feed].id or 0,
        entry=Entry(f"g-{story.key}", url, story.title, "", when),
        article=Article(
            f"https://news.example/canonical/{story.key}",
            story.title,
            f"text of {story.key}",
            language=story.language,
            published_at=when,
            sitename=story.sitename,
        ),
        matches=[Match(story.profile, "v1", ["term"], 1.0, story.snippet, (story.snippet,))],
        routes={story.profile: [Route("mail")]},
        now=when,
        story_id=ids[story.joins] if story.joins else None,
    )
    ids[story.key] = stored.article_id


def build_archive(engine: Engine, stories: list[Story] = STORIES) -> dict[str, int]:
    """Feeds (one failing, with a password in its URL) and `stories`; their article ids."""
    now = datetime.now(UTC)
    specs = [FeedSpec(MAIN, name="Example"), FeedSpec(OTHER, name="Wire"), FeedSpec(BROKEN)]
    feeds.sync_feeds(engine, specs, now)
    broken = feeds.feed_rows(engine)[BROKEN].id or 0
    failed = PollResult(BROKEN, "error", 500, error=f"{BROKEN}: HTTP status 500")
    feeds.record_polls(engine, [PollRecord(broken, failed, now, now + timedelta(hours=1))])
    ids: dict[str, int] = {}
    for story in stories:
        store(engine, story, now.date(), ids)
    return ids


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    text: str

    def html(self) -> lxml.html.HtmlElement:
        return lxml.html.fromstring(self.text)


class Client:
    """HTTP to the served application as a browser would send it, redirects not followed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.host = urlsplit(base).netloc

    def request(
        self,
        path: str,
        method: str = "GET",
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        connection = http.client.HTTPConnection(self.host, timeout=30)
        sent = {"Accept": "text/html,application/xhtml+xml", **(headers or {})}
        body = urlencode(form).encode() if form is not None else None
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=sent)
            answer = connection.getresponse()
            return Answer(answer.status, answer.headers, answer.read().decode())
        finally:
            connection.close()


@pytest.fixture
def archive(engine: Engine) -> tuple[Engine, dict[str, int]]:
    return engine, build_archive(engine)


@pytest.fixture
def client(archive: tuple[Engine, dict[str, int]], config_dir: Path) -> Iterator[Client]:
    for served in _serve(archive[0], config_dir, None):
        yield Client(served.base)


def test_every_page_answers_html_with_a_strict_policy(
    client: Client, archive: tuple[Engine, dict[str, int]]
) -> None:
    ids = archive[1]
    for path in (*PAGES, f"/stories/{ids['en']}", "/profiles/great_firewall"):
        answer = client.request(path)
        assert answer.status == 200, path
        assert answer.headers["content-type"].startswith("text/html"), path
        policy = answer.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "style-src 'self'" in policy, path
        assert "form-action 'self'" in policy and "script-src 'self'" in policy, path
        assert "unsafe" not in policy, path  # no inline script, no eval
        assert answer.headers["x-content-type-options"] == "nosniff"
        document = answer.html()
        assert not document.xpath("//script") and not document.xpath("//*[@style]"), path
        assert not document.xpath("//@*[starts-with(name(), 'on')]"), path  # no handler
        for element in document.xpath("//link[@href] | //img[@src] | //*[@src]"):
            where = element.get("href") or element.get("src")
            assert not re.match(r"(?i)(https?:)?//", where), (path, where)
    css = client.request("/static/monitor.css")
    assert css.status == 200 and css.headers["content-type"].startswith("text/css")


def test_pages_show_what_was_stored(client: Client, archive: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = archive
    listed = client.request("/hits").html()
    titles = {h.text_content().strip(): h for h in listed.xpath("//li[@class='hit']/h3")}
    assert titles["国家网信办发布新规"].get("lang") == "zh"
    assert titles["防火長城再升級"].get("lang") == "zh-Hant"
    assert titles["Великий файрвол"].get("lang") == "ru"
    link = titles["Great Firewall tightened"].xpath("a")[0]
    assert link.get("href") == "https://news.example/en"
    assert set(link.get("rel").split()) == {"noopener", "noreferrer"}
    assert "Great Firewall" in listed.xpath("//mark/text()") and "网信办" in listed.xpath(
        "//p[@lang='zh']/mark/text()"
    )

    overview = client.request("/").html()
    row = overview.xpath("//tr[th/a[@href='/profiles/great_firewall']]")[0]
    today, week = (cell.text_content() for cell in row.xpath("td[@class='number']"))
    assert (today, week) == ("2", "6")  # two today (one a wire copy), six in the last 7 days
    assert len(row.xpath(".//svg/rect")) == 14
    failing = overview.xpath("//ul[@class='failing']//a")
    assert [a.text_content() for a in failing] == ["https://reader:****@broken.example/rss"]
    backlog = overview.xpath("//p[contains(., 'Outbox backlog')]/strong/text()")
    assert backlog == [str(counts(engine).backlog)] and counts(engine).backlog > 0

    page = client.request("/feeds")
    assert "s3cret" not in page.text
    cells = page.html().xpath(f"//tr[@id='feed-{_feed_id(engine, BROKEN)}']/td")
    assert "failing" in cells[1].text_content() and "HTTP status 500" in cells[4].text_content()

    story = client.request(f"/stories/{ids['en']}").html()
    outlets = [row.xpath("td")[0].text_content() for row in story.xpath("//tbody/tr")]
    assert sorted(outlets) == ["Example", "Other Wire"]
    assert story.xpath("//ul[@class='tags']//a/text()") == ["great_firewall"]

    profile = client.request("/profiles/great_firewall").html()
    assert "@GFW" in profile.xpath("//pre[@class='query']/text()")[0]
    assert len(profile.xpath("//ol[@class='hits']/li[@class='hit']")) == 6


def _feed_id(engine: Engine, url: str) -> int:
    return feeds.feed_rows(engine)[url].id or 0


def test_feed_text_stays_text(client: Client) -> None:
    answer = client.request("/hits?profile=cyber_sovereignty")
    assert SCRIPT_TITLE not in answer.text and "<img src=x" not in answer.text
    assert "&lt;script&gt;" in answer.text
    assert not re.search(r"(?i)href\s*=\s*[\"']?\s*javascript:", answer.text)
    document = answer.html()
    titles = [h.text_content().strip() for h in document.xpath("//li[@class='hit']/h3")]
    assert sorted(titles) == sorted([SCRIPT_TITLE, HOSTILE_TITLE])  # shown, as text
    script_hit = document.xpath("//li[@class='hit'][h3[not(a)]]/h3")
    assert [h.text_content().strip() for h in script_hit] == [SCRIPT_TITLE]  # not a link
    assert not document.xpath("//img | //b")
    assert "<img src=y>" in document.xpath("//mark/text()")  # a marked term, as text
    snippets = [p.text_content() for p in document.xpath("//p[@class='snippet']")]
    assert "<b>x</b> <img src=y> z" in snippets  # as text, its right-to-left override dropped


def test_filters_narrow_the_list_and_pages_follow_the_cursor(
    client: Client, archive: tuple[Engine, dict[str, int]]
) -> None:
    engine = archive[0]

    def titles(path: str) -> list[str]:
        listed = client.request(path).html()
        return [h.text_content().strip() for h in listed.xpath("//li[@class='hit']/h3")]

    assert titles("/hits?language=ru") == ["Великий файрвол"]
    assert titles("/hits?profile=china_cyber_regulator&feed=Example") == ["国家网信办发布新规"]
    assert titles("/hits?feed=Wire") == ["Firewall tightened (wire copy)"]
    day = (datetime.now(UTC).date() - timedelta(days=3)).isoformat()
    assert sorted(titles(f"/hits?since={day}&until={day}")) == [
        "Firewall history",
        "Firewall history, part two",
    ]
    form = client.request("/hits?profile=great_firewall").html()
    assert form.xpath("//select[@name='profile']/option[@selected]/@value") == ["great_firewall"]
    assert form.xpath("//form//input[@name='q']")  # the search box

    extra = [Story(f"more{n}", "great_firewall", "en", f"More {n}", 5) for n in range(50)]
    for story in extra:
        store(engine, story, datetime.now(UTC).date(), {})
    seen: list[str] = []
    path: str | None = "/hits?profile=great_firewall"
    while path:
        document = client.request(path).html()
        seen += [h.text_content().strip() for h in document.xpath("//li[@class='hit']/h3")]
        older = document.xpath("//a[@rel='next']/@href")
        path = older[0] if older else None
        assert path is None or ("profile=great_firewall" in path and "cursor=" in path)
    assert len(seen) == len(set(seen)) == 56  # every hit of the profile once, over two pages

    for bad_date in ("since=yesterday", "until=9999-12-31"):
        bad = client.request(f"/hits?{bad_date}")
        assert bad.status == 400 and "not a date" in bad.text, bad_date
    assert client.request("/hits?cursor=%25%25").status == 400


def test_missing_things_get_an_html_page_and_the_api_stays_json(client: Client) -> None:
    for path in (
        "/stories/999999",
        "/stories/abc",
        f"/stories/{10**20}",
        "/profiles/x",
        "/nowhere",
    ):
        answer = client.request(path)
        assert answer.status == 404 and answer.headers["content-type"].startswith("text/html")
        assert answer.html().xpath("//h1/text()") == ["404 Not Found"]
    for path in ("/api/v1/hits/999999", "/nowhere"):
        json_only = client.request(path, headers={"Accept": "application/json"})
        assert json_only.status == 404 and json_only.text.startswith('{"error"')
    api = client.request("/api/v1/hits/999999")  # a browser asking the API still gets JSON
    assert api.headers["content-type"] == "application/json"


def test_a_page_that_fails_says_so_in_html(client: Client, config_dir: Path) -> None:
    (config_dir / "profiles" / "broken.yaml").write_text("query: [unclosed\n", encoding="utf-8")
    failed = client.request("/")
    assert failed.status == 500 and failed.headers["content-type"].startswith("text/html")
    assert "internal error (ConfigError)" in failed.html().xpath("//main/p/text()")[0]
    api = client.request("/api/v1/profiles")
    assert api.status == 500 and api.headers["content-type"] == "application/json"


@pytest.fixture
def guarded(archive: tuple[Engine, dict[str, int]], config_dir: Path) -> Iterator[Client]:
    for served in _serve(archive[0], config_dir, TOKEN):
        yield Client(served.base)


def test_a_browser_signs_in_with_the_token(guarded: Client) -> None:
    sent_away = guarded.request("/hits?profile=great_firewall")
    assert sent_away.status == 303
    assert sent_away.headers["location"] == "/login?next=%2Fhits%3Fprofile%3Dgreat_firewall"
    for api in ("/api/v1/hits", "/openapi.json", "/feeds/hits.atom"):
        refused = guarded.request(api)
        assert refused.status == 401 and refused.text.startswith('{"error"'), api
    form = guarded.request("/login?next=%2Fhits")
    assert form.status == 200 and "default-src 'none'" in form.headers["content-security-policy"]
    assert form.html().xpath("//input[@name='next']/@value") == ["/hits"]
    assert guarded.request("/static/monitor.css").status == 200

    wrong = guarded.request("/login", "POST", {"token": "not-the-token", "next": "/hits"})
    assert wrong.status == 401 and "Wrong token" in wrong.text
    assert "set-cookie" not in wrong.headers
    assert "content-security-policy" in wrong.headers

    origin = {"Origin": guarded.base}
    right = guarded.request("/login", "POST", {"token": TOKEN, "next": "/hits"}, origin)
    assert (right.status, right.headers["location"]) == (303, "/hits")
    cookie = right.headers["set-cookie"]
    assert cookie.startswith(f"monitor_token={TOKEN};")
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    assert "secure" not in cookie.lower()  # plain http: a Secure cookie would never come back
    signed_in = guarded.request("/hits", headers={"Cookie": f"monitor_token={TOKEN}"})
    assert signed_in.status == 200 and "国家网信办发布新规" in signed_in.text

    https = {"X-Forwarded-Proto": "https", "Origin": "https://" + guarded.host}
    behind_tls = guarded.request("/login", "POST", {"token": TOKEN, "next": "/"}, https)
    assert behind_tls.status == 303 and "secure" in behind_tls.headers["set-cookie"].lower()


def test_signing_in_never_sends_anyone_elsewhere(guarded: Client) -> None:
    for target in (
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "/\t/evil.example/",
        "javascript:alert(1)",
        "evil.example",
    ):
        answer = guarded.request("/login", "POST", {"token": TOKEN, "next": target})
        assert (answer.status, answer.headers["location"]) == (303, "/"), target


def test_a_sign_in_posted_from_another_site_is_refused(guarded: Client) -> None:
    form = {"token": TOKEN, "next": "/"}
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        refused = guarded.request("/login", "POST", form, headers)
        assert refused.status == 403 and "set-cookie" not in refused.headers, headers
    same_site = guarded.request("/login", "POST", form, {"Sec-Fetch-Site": "same-origin"})
    assert same_site.status == 303
