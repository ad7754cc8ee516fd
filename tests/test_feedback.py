"""Readers' feedback on hits, on SQLite and PostgreSQL: the store (one verdict a hit, replaced,
cleared; precision per profile; labelled hits; missed articles), the API with the token
(Bearer, cookie and CSRF), the pages' forms, and what `monitor hits` and `monitor profiles
list` show. The application runs in a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine
from sqlmodel import Session

from monitor.models import Article, Entry, FeedSpec, Match, Route
from monitor.store import articles, feeds
from monitor.store.archive import hits_of_article
from monitor.store.feedback import (
    NoSuchHit,
    Precision,
    add_missed,
    clear_feedback,
    feedback_for,
    give_feedback,
    labelled_hits,
    missed_articles,
    precision,
)
from monitor.store.hits import HitFilter, hit_by_id, page_of_hits, query_hits
from monitor.web.access import csrf_token
from tests.test_cli import monitor
from tests.test_web_api import _serve
from tests.test_web_pages import Client
from tests.test_workbench_web import _serve as serve_app

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TOKEN = "a-long-enough-web-token"
FEED = "https://news.example/rss"
STORY = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Censors block more VPN apps</title></head><body><article>
<h1>Censors block more VPN apps</h1>
<p>App stores removed dozens of VPN applications this week, the latest step in a campaign
that has made climbing over the national firewall harder for ordinary users.</p>
<p>Researchers who track the blocking say the list of unreachable foreign news sites grew
again this month, and that companies still selling access are being told to stop.</p>
<p>Officials describe the campaign as a defence of sovereignty in cyberspace, and say each
state should govern the internet inside its borders as it sees fit.</p>
</article></body></html>"""


def _store(engine: Engine, n: int, profiles: tuple[str, ...], title: str) -> int:
    """One article matching `profiles`; its id."""
    url = f"https://news.example/{n}"
    stored = articles.store_article(
        engine,
        feed_id=feeds.feed_rows(engine)[FEED].id or 0,
        entry=Entry(f"g{n}", url, title, "", NOW - timedelta(days=n)),
        article=Article(url, title, f"text {n} about {title}", language="en"),
        matches=[Match(p, "v1", ["term"], 1.0, "the **term**") for p in profiles],
        routes={p: [Route("mail")] for p in profiles},
        now=NOW - timedelta(hours=n),
    )
    return stored.article_id


@pytest.fixture
def archive(engine: Engine) -> dict[str, int]:
    """Five articles: four hit great_firewall, two hit china_cyber_regulator; hit ids by
    "profile:n"."""
    feeds.sync_feeds(engine, [FeedSpec(FEED, name="Example")], NOW)
    for n, profiles in [
        (1, ("great_firewall", "china_cyber_regulator")),
        (2, ("great_firewall",)),
        (3, ("great_firewall",)),
        (4, ("great_firewall",)),
        (5, ("china_cyber_regulator",)),
    ]:
        _store(engine, n, profiles, f"Story {n}")
    return {
        f"{hit.profile}:{hit.url.rsplit('/', 1)[1]}": hit.id
        for hit in query_hits(engine)  # every hit
    }


# ---- the store ------------------------------------------------------------------------


def test_one_verdict_a_hit_replaced_and_cleared(engine: Engine, archive: dict[str, int]) -> None:
    hit = archive["great_firewall:2"]
    given = give_feedback(engine, hit, False, "  the wrong firewall  ", "ana", NOW)
    assert (given.relevant, given.note, given.by, given.at) == (
        False,
        "the wrong firewall",
        "ana",
        NOW,
    )
    again = give_feedback(engine, hit, True, "", "bo", NOW + timedelta(hours=1))
    with Session(engine) as session:
        [(found_id, found)] = feedback_for(session, [hit, archive["great_firewall:3"]]).items()
    assert found_id == hit and found == again  # replaced, not added
    assert (found.relevant, found.by) == (True, "bo")

    assert clear_feedback(engine, hit) is True
    assert clear_feedback(engine, hit) is False  # nothing left to clear
    with Session(engine) as session:
        assert feedback_for(session, [hit]) == {}
    with pytest.raises(NoSuchHit):
        give_feedback(engine, 999_999, True, "", "ana", NOW)
    with pytest.raises(NoSuchHit):
        clear_feedback(engine, 999_999)


def test_every_read_of_hits_carries_their_feedback(engine: Engine, archive: dict[str, int]) -> None:
    judged, other = archive["great_firewall:1"], archive["china_cyber_regulator:1"]
    give_feedback(engine, judged, False, "sports", "ana", NOW)
    page = {hit.id: hit for hit in page_of_hits(engine, HitFilter(), 50)}
    verdict = page[judged].feedback
    assert verdict is not None and verdict.note == "sports"
    assert page[other].feedback is None  # the same article's hit for another profile
    assert sum(hit.feedback is not None for hit in page.values()) == 1
    one = hit_by_id(engine, judged)
    assert one is not None and one.feedback == page[judged].feedback
    assert one.record()["feedback"] == {
        "relevant": False,
        "note": "sports",
        "at": NOW.isoformat(),
        "by": "ana",
    }
    assert next(h for h in query_hits(engine) if h.id == judged).feedback is not None
    of_article = {h.id: h.feedback for h in hits_of_article(engine, one.article_id)}
    assert of_article[judged] is not None and of_article[other] is None


def test_precision_per_profile_counts_what_was_judged(
    engine: Engine, archive: dict[str, int]
) -> None:
    assert precision(engine) == {}
    for key, relevant in [
        ("great_firewall:1", True),
        ("great_firewall:2", True),
        ("great_firewall:3", False),
        ("china_cyber_regulator:5", False),
    ]:
        give_feedback(engine, archive[key], relevant, "", "ana", NOW)
    found = precision(engine)
    assert found == {
        "great_firewall": Precision(2, 3),
        "china_cyber_regulator": Precision(0, 1),
    }
    assert found["great_firewall"].shown() == "0.67 (3)"
    assert Precision(0, 0).shown() == "-" and Precision(0, 0).value is None
    assert precision(engine, "china_cyber_regulator") == {"china_cyber_regulator": Precision(0, 1)}

    labelled = labelled_hits(engine, "great_firewall")
    assert [(h.hit_id, h.relevant) for h in labelled] == sorted(
        [(archive["great_firewall:1"], True), (archive["great_firewall:2"], True),
         (archive["great_firewall:3"], False)]
    )  # fmt: skip
    assert labelled[0].text and labelled[0].title.startswith("Story")


def test_missed_articles_are_kept_once_per_address(engine: Engine) -> None:
    first = add_missed(
        engine, "great_firewall", url="https://x.example/a", title="A", text="text a",
        language="en", note="should match", by="ana", at=NOW,
    )  # fmt: skip
    add_missed(
        engine, "cyber_sovereignty", url="https://x.example/a", title="A", text="text a",
        language="en", note="", by="ana", at=NOW,
    )  # fmt: skip
    again = add_missed(
        engine, "great_firewall", url="https://x.example/a", title="A, updated", text="new",
        language="en", note="", by="bo", at=NOW + timedelta(hours=1),
    )  # fmt: skip
    assert again.id == first.id and (again.title, again.text, again.given_by) == (
        "A, updated",
        "new",
        "bo",
    )
    assert [m.title for m in missed_articles(engine, "great_firewall")] == ["A, updated"]
    assert len(missed_articles(engine, "cyber_sovereignty")) == 1
    assert missed_articles(engine, "nothing") == []


# ---- the API --------------------------------------------------------------------------


class Api:
    """JSON to the served application, with the token as a Bearer header or a cookie."""

    def __init__(self, base: str) -> None:
        self.base = base

    def call(
        self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                text = answer.read().decode()
                status = answer.status
        except urllib.error.HTTPError as failed:
            text, status = failed.read().decode(), failed.code
        return status, json.loads(text) if text.startswith(("{", "[")) else text


BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def guarded(engine: Engine, archive: dict[str, int], config_dir: Path) -> Iterator[Api]:
    for served in _serve(engine, config_dir, TOKEN):
        yield Api(served.base)


def test_the_api_takes_a_verdict_with_the_token_only(
    guarded: Api, archive: dict[str, int], engine: Engine
) -> None:
    hit = archive["great_firewall:2"]
    path = f"/api/v1/hits/{hit}/feedback"
    verdict = {"relevant": False, "note": "a fire-safety story"}

    status, answer = guarded.call("POST", path, verdict)
    assert status == 401 and answer["error"]["status"] == 401
    cookie = {"Cookie": f"monitor_token={TOKEN}", "Origin": guarded.base}
    status, answer = guarded.call("POST", path, verdict, cookie)  # no CSRF header
    assert status == 403 and "CSRF" in answer["error"]["message"]
    assert hit_by_id(engine, hit).feedback is None  # type: ignore[union-attr]

    status, answer = guarded.call("POST", path, verdict, {**BEARER, "X-Monitor-User": "ana"})
    assert status == 200, answer
    assert answer["hit_id"] == hit
    assert answer["feedback"]["relevant"] is False and answer["feedback"]["by"] == "ana"

    with_csrf = {**cookie, "X-CSRF-Token": csrf_token(TOKEN)}
    status, answer = guarded.call("POST", path, {"relevant": True}, with_csrf)
    assert status == 200 and answer["feedback"]["note"] == ""  # replaced, note and all

    status, one = guarded.call("GET", f"/api/v1/hits/{hit}", headers=BEARER)
    assert status == 200 and one["feedback"]["relevant"] is True
    assert one["feedback"]["by"] == "token holder"
    _, listed = guarded.call("GET", "/api/v1/hits?profile=great_firewall", headers=BEARER)
    verdicts = {item["id"]: item["feedback"] for item in listed["items"]}
    assert verdicts[hit]["relevant"] is True
    assert [v for key, v in verdicts.items() if key != hit] == [None, None, None]

    status, cleared = guarded.call("DELETE", path, headers=BEARER)
    assert (status, cleared["feedback"], cleared["cleared"]) == (200, None, True)
    assert hit_by_id(engine, hit).feedback is None  # type: ignore[union-attr]


def test_the_api_refuses_bad_verdicts_and_unknown_hits(
    guarded: Api, archive: dict[str, int]
) -> None:
    path = f"/api/v1/hits/{archive['great_firewall:2']}/feedback"
    for bad in ({}, {"relevant": "yes"}, {"relevant": None}, {"relevant": True, "extra": 1},
                {"relevant": True, "note": "x" * 2001}, [True]):  # fmt: skip
        status, answer = guarded.call("POST", path, bad, BEARER)
        assert status == 400 and answer["error"]["status"] == 400, bad
    status, answer = guarded.call("POST", path, "not json", BEARER)
    assert status == 400
    status, answer = guarded.call(
        "POST", "/api/v1/hits/999999/feedback", {"relevant": True}, BEARER
    )
    assert (status, answer["error"]["message"]) == (404, "no hit 999999")
    status, _ = guarded.call("DELETE", "/api/v1/hits/999999/feedback", headers=BEARER)
    assert status == 404


def test_without_a_token_configured_nothing_is_written(
    engine: Engine, archive: dict[str, int], config_dir: Path
) -> None:
    for served in _serve(engine, config_dir, None):
        api = Api(served.base)
        path = f"/api/v1/hits/{archive['great_firewall:2']}/feedback"
        status, answer = api.call("POST", path, {"relevant": True}, BEARER)
        assert status == 403 and "web.token" in answer["error"]["message"]
        status, one = api.call("GET", f"/api/v1/hits/{archive['great_firewall:2']}")
        assert status == 200 and one["feedback"] is None  # reading stays open


def test_the_csv_export_carries_the_verdict(
    guarded: Api, archive: dict[str, int], engine: Engine
) -> None:
    give_feedback(engine, archive["great_firewall:3"], False, "=cmd()", "ana", NOW)
    request = urllib.request.Request(guarded.base + "/api/v1/hits.csv?profile=great_firewall")
    request.add_header("Authorization", f"Bearer {TOKEN}")
    with urllib.request.urlopen(request, timeout=30) as answer:
        rows = list(csv.DictReader(io.StringIO(answer.read().decode())))
    verdicts = {row["id"]: row["feedback"] for row in rows}
    assert verdicts[str(archive["great_firewall:3"])] == "not relevant: =cmd()"
    assert sorted(verdicts.values()) == ["", "", "", "not relevant: =cmd()"]


def test_a_missed_article_is_fetched_extracted_and_kept(
    guarded: Api, httpserver: HTTPServer, engine: Engine
) -> None:
    httpserver.expect_request("/vpn").respond_with_data(STORY, content_type="text/html")
    url = httpserver.url_for("/vpn")
    path = "/api/v1/profiles/great_firewall/missed"
    status, _ = guarded.call("POST", path, {"url": url})
    assert status == 401
    status, added = guarded.call("POST", path, {"url": url, "note": "VPN crackdown"}, BEARER)
    assert status == 201, added
    assert (added["url"], added["title"], added["note"]) == (
        url,
        "Censors block more VPN apps",
        "VPN crackdown",
    )
    assert "App stores removed dozens of VPN applications" in added["text"]
    assert added["language"] == "en" and added["given_by"] == "token holder"
    [kept] = missed_articles(engine, "great_firewall")
    assert kept.id == added["id"] and "national firewall" in kept.text
    status, listed = guarded.call("GET", path, headers=BEARER)
    assert status == 200 and [item["id"] for item in listed["items"]] == [kept.id]

    status, answer = guarded.call("POST", "/api/v1/profiles/nothing/missed", {"url": url}, BEARER)
    assert status == 404
    httpserver.expect_request("/gone").respond_with_data("no", status=404)
    status, answer = guarded.call("POST", path, {"url": httpserver.url_for("/gone")}, BEARER)
    assert status == 400 and "404" in answer["error"]["message"]
    status, answer = guarded.call("POST", path, {"url": "file:///etc/passwd"}, BEARER)
    assert status == 400 and "http" in answer["error"]["message"]
    assert len(missed_articles(engine, "great_firewall")) == 1


# ---- the pages ------------------------------------------------------------------------


@pytest.fixture
def browser(engine: Engine, archive: dict[str, int], config_dir: Path) -> Iterator[Client]:
    for served in _serve(engine, config_dir, TOKEN):
        yield Client(served.base)


SIGNED_IN = {"Cookie": f"monitor_token={TOKEN}"}


def test_a_signed_in_reader_marks_a_hit_from_the_list(
    browser: Client, archive: dict[str, int], engine: Engine
) -> None:
    hit = archive["great_firewall:2"]
    listed = browser.request("/hits?profile=great_firewall", headers=SIGNED_IN)
    assert listed.status == 200
    html = listed.html()
    [form] = html.xpath(f"//li[@id='hit-{hit}']//form[@action='/hits/{hit}/feedback']")
    assert form.xpath(".//input[@name='csrf']/@value") == [csrf_token(TOKEN)]
    assert form.xpath(".//input[@name='back']/@value") == ["/hits?profile=great_firewall"]
    assert form.xpath(".//button/@value") == ["relevant", "not_relevant"]
    assert not html.xpath("//script")  # the pages stay script-free

    fields = {"csrf": csrf_token(TOKEN), "back": "/hits?profile=great_firewall"}
    fields |= {"verdict": "not_relevant", "note": "firewall as in a building"}
    same_site = {**SIGNED_IN, "Origin": browser.base}
    done = browser.request(f"/hits/{hit}/feedback", "POST", fields, same_site)
    assert done.status == 303
    assert done.headers["location"] == f"/hits?profile=great_firewall#hit-{hit}"
    stored = hit_by_id(engine, hit)
    assert stored is not None and stored.feedback is not None
    assert (stored.feedback.relevant, stored.feedback.note) == (False, "firewall as in a building")

    again = browser.request("/hits?profile=great_firewall", headers=SIGNED_IN).html()
    [shown] = again.xpath(f"//li[@id='hit-{hit}']//p[contains(@class, 'verdict')]")
    assert "not relevant" in shown.text_content()
    assert "firewall as in a building" in shown.text_content()
    assert again.xpath(f"//li[@id='hit-{hit}']//button/@value") == [
        "relevant",
        "not_relevant",
        "clear",
    ]
    cleared = browser.request(
        f"/hits/{hit}/feedback", "POST", {**fields, "verdict": "clear"}, same_site
    )
    assert cleared.status == 303 and hit_by_id(engine, hit).feedback is None  # type: ignore[union-attr]


def test_a_form_from_elsewhere_or_without_the_token_writes_nothing(
    browser: Client, archive: dict[str, int], engine: Engine
) -> None:
    hit = archive["great_firewall:2"]
    fields = {"csrf": csrf_token(TOKEN), "verdict": "relevant", "back": "/hits"}
    cross = browser.request(
        f"/hits/{hit}/feedback", "POST", fields, {**SIGNED_IN, "Origin": "https://evil.example"}
    )
    assert cross.status == 403
    forged = browser.request(
        f"/hits/{hit}/feedback", "POST", {**fields, "csrf": "guess"}, {**SIGNED_IN}
    )
    assert forged.status == 403
    anonymous = browser.request(f"/hits/{hit}/feedback", "POST", fields)
    assert anonymous.status == 401  # a POST without the token: refused
    assert hit_by_id(engine, hit).feedback is None  # type: ignore[union-attr]
    elsewhere = browser.request(
        f"/hits/{hit}/feedback", "POST", {**fields, "back": "https://evil.example/"},
        {**SIGNED_IN, "Origin": browser.base},
    )  # fmt: skip
    assert elsewhere.headers["location"] == f"/#hit-{hit}"  # never sent to another site


def test_without_the_token_the_pages_show_verdicts_and_a_way_to_sign_in(
    engine: Engine, archive: dict[str, int], config_dir: Path
) -> None:
    hit = archive["great_firewall:2"]
    give_feedback(engine, hit, True, "", "ana", NOW)
    for served in _serve(engine, config_dir, None):  # no token: nobody can write
        page = Client(served.base).request("/hits").html()
        assert not page.xpath("//form[contains(@action, '/feedback')]")
        assert (
            "relevant"
            in page.xpath(f"//li[@id='hit-{hit}']//p[contains(@class,'verdict')]")[0].text_content()
        )
        assert "needs web.token" in page.xpath(f"//li[@id='hit-{hit}']")[0].text_content()
    for base in _serve_open(engine, config_dir):  # a token, reads open (on loopback)
        page = Client(base).request("/hits?profile=great_firewall").html()
        assert not page.xpath("//form[contains(@action, '/feedback')]")
        links = page.xpath(f"//li[@id='hit-{hit}']//a[contains(@href, '/login')]")
        assert links and links[0].text == "Sign in to give feedback"
        assert links[0].get("href") == "/login?next=%2Fhits%3Fprofile%3Dgreat_firewall"


def _serve_open(engine: Engine, config_dir: Path) -> Iterator[str]:
    """The application with a token, reads open (as on loopback): its base URL."""
    yield from serve_app(engine, config_dir, TOKEN)


def test_the_profile_page_shows_precision_and_takes_missed_articles(
    browser: Client, archive: dict[str, int], engine: Engine, httpserver: HTTPServer
) -> None:
    page = browser.request("/profiles/great_firewall", headers=SIGNED_IN).html()
    assert page.xpath("//p[@class='precision']/text()") == [
        "Precision from feedback: no feedback yet"
    ]
    for key, relevant in [("great_firewall:1", True), ("great_firewall:2", True),
                          ("great_firewall:3", True), ("great_firewall:4", False)]:  # fmt: skip
        give_feedback(engine, archive[key], relevant, "", "ana", NOW)
    page = browser.request("/profiles/great_firewall", headers=SIGNED_IN).html()
    shown = page.xpath("//p[@class='precision']/text()")
    assert shown == ["Precision from feedback: 0.75 (4 judged)"]
    assert len(page.xpath("//li[contains(@class, 'hit')]//form[contains(@class, 'feedback')]")) == 4

    httpserver.expect_request("/vpn").respond_with_data(STORY, content_type="text/html")
    [form] = page.xpath("//form[@action='/profiles/great_firewall/missed']")
    assert form.xpath(".//input[@name='csrf']/@value") == [csrf_token(TOKEN)]
    fields = {"csrf": csrf_token(TOKEN), "url": httpserver.url_for("/vpn"), "note": "missed"}
    added = browser.request(
        "/profiles/great_firewall/missed", "POST", fields, {**SIGNED_IN, "Origin": browser.base}
    )
    assert (added.status, added.headers["location"]) == (303, "/profiles/great_firewall#missed")
    page = browser.request("/profiles/great_firewall", headers=SIGNED_IN).html()
    assert page.xpath("//ul[@class='missed']//a/text()") == ["Censors block more VPN apps"]

    refused = browser.request(
        "/profiles/great_firewall/missed", "POST", {**fields, "url": "ftp://x.example/"},
        {**SIGNED_IN, "Origin": browser.base},
    )  # fmt: skip
    assert refused.status == 400 and "not added" in refused.text


# ---- the command line -----------------------------------------------------------------


def test_monitor_hits_and_profiles_list_show_the_feedback(
    tmp_path: Path, config_dir: Path, sqlite_url: str
) -> None:
    from monitor.store.engine import open_engine, upgrade

    engine = open_engine(sqlite_url)
    upgrade(engine)
    feeds.sync_feeds(engine, [FeedSpec(FEED, name="Example")], NOW)
    for n in (1, 2, 3):
        _store(engine, n, ("great_firewall",), f"Story {n}")
    ids = {hit.title: hit.id for hit in query_hits(engine)}
    give_feedback(engine, ids["Story 1"], True, "", "ana", NOW)
    give_feedback(engine, ids["Story 2"], False, "fire safety", "ana", NOW)
    engine.dispose()
    env = {"MONITOR_DATABASE_URL": sqlite_url, "COLUMNS": "220"}
    cfg = ("--config", str(config_dir))

    table = monitor(*cfg, "hits", cwd=tmp_path, env=env)
    assert table.returncode == 0, table.stderr
    shown = [
        [c.strip() for c in re.split("[│┃]", line)[1:-1]] for line in table.stdout.splitlines()
    ]
    header = next(row for row in shown if row and row[0] == "published")
    assert header[-1] == "feedback"
    verdict = {row[3]: row[-1] for row in shown if row and row[3].startswith("Story")}
    assert verdict == {
        "Story 1": "relevant",
        "Story 2": "not relevant: fire safety",
        "Story 3": "-",
    }

    listed = monitor(*cfg, "hits", "--format", "json", cwd=tmp_path, env=env)
    verdicts = {item["title"]: item["feedback"] for item in json.loads(listed.stdout)}
    assert verdicts["Story 3"] is None
    assert verdicts["Story 2"]["relevant"] is False and verdicts["Story 2"]["note"] == "fire safety"
    assert verdicts["Story 1"] == {"relevant": True, "note": "", "at": NOW.isoformat(), "by": "ana"}

    profiles = monitor(*cfg, "profiles", "list", cwd=tmp_path, env=env)
    assert profiles.returncode == 0, profiles.stderr
    rows = [re.split("[│┃]", line)[1:-1] for line in profiles.stdout.splitlines()]
    cells = {row[0].strip(): [c.strip() for c in row] for row in rows if row}
    assert cells["name"][:3] == ["name", "hits 7d", "precision"]
    assert cells["great_firewall"][2] == "0.50 (2)"
    assert cells["cyber_sovereignty"][2] == "-"
