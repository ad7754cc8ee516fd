"""The Atom feeds over HTTP: a real uvicorn server on 127.0.0.1 over a real database (SQLite and
PostgreSQL), read the way subscribers read them: parsed by feedparser and lxml, and subscribed
to by the `reader` library, which polls with its own conditional requests."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree
from reader import make_reader
from sqlalchemy import Engine

from monitor.models import Article, Entry, FeedSpec, Match, Route
from monitor.store import articles, feeds
from tests.test_web_api import Served, _serve

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"
TAG_URI = re.compile(r"tag:[a-z0-9.-]+,\d{4}(-\d{2}){0,2}:[!-~]+")  # RFC 4151, ASCII after
HOSTILE = "<script>alert(1)</script> \x00\x01\x08\x0b\x1f\ufffe ]]> & done"
SHOWN = "<script>alert(1)</script> \ufffd ]]> & done"  # stored NUL → U+FFFD, the rest dropped
HOSTILE_URL = 'https://news.example/6?a=1&b="x"<y>'
CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
HITS = [  # n, profile, language, title
    (1, "gfw", "en", "Great Firewall tightened"),
    (2, "cac", "zh", "国家网信办发布新规"),
    (3, "gfw", "zh-Hant", "防火長城再升級"),
    (4, "gfw", "ru", "Великий файрвол"),
    (5, "cac", "en", "Regulator drafts rules"),
    (6, "cac", "en", HOSTILE),
]


def _store(engine: Engine, n: int, profile: str, language: str, title: str) -> None:
    """One article with one hit, published n days and stored n hours before NOW (n < 0:
    after NOW); its snippet quotes the title, its terms include markup."""
    url = HOSTILE_URL if title == HOSTILE else f"https://news.example/{n}"
    published = NOW - timedelta(days=n)
    articles.store_article(
        engine,
        feed_id=feeds.feed_rows(engine)["https://news.example/rss"].id or 0,
        entry=Entry(f"g{n}", url, title, "", published),
        article=Article(url, title, f"text {n}", language=language, published_at=published),
        matches=[Match(profile, "v1", ["term", "<i>"], 1.0, f"the **term** in {title}")],
        routes={profile: [Route("mail")]},
        now=NOW - timedelta(hours=n),
    )


@pytest.fixture
def archive(engine: Engine) -> Engine:
    """Six hits: English, Chinese (Simplified and Traditional), Russian and a hostile one."""
    feeds.sync_feeds(engine, [FeedSpec("https://news.example/rss", name="Example <Wire>")], NOW)
    for hit in HITS:
        _store(engine, *hit)
    return engine


@pytest.fixture
def web(archive: Engine, config_dir: Path) -> Iterator[Served]:
    yield from _serve(archive, config_dir, None)


def fetch(
    web: Served, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """GET `path`: the status, the headers (names in lower case) and the body's bytes."""
    request = urllib.request.Request(web.base + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, got, body = answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as failed:
        status, got, body = failed.code, failed.headers, failed.read()
    return status, {name.lower(): value for name, value in got.items()}, body


def atom(web: Served, path: str, headers: dict[str, str] | None = None) -> bytes:
    status, got, body = fetch(web, path, headers)
    assert status == 200, body
    assert got["content-type"] == "application/atom+xml; charset=utf-8"
    return body


def entries(body: bytes) -> list[etree._Element]:
    """The entries of a document, checked against RFC 4287's required elements on the way."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    feed = etree.fromstring(body, parser)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author/" + ATOM + "name", "generator"):
        assert feed.find(ATOM + required) is not None, required
    assert [link.get("rel") for link in feed.iter(f"{ATOM}link") if link.getparent() is feed] == [
        "self"
    ]
    found = feed.findall(f"{ATOM}entry")
    for entry in found:
        for required in ("id", "title", "updated", "summary", "source/" + ATOM + "title"):
            assert entry.find(ATOM + required) is not None, required
        assert TAG_URI.fullmatch(entry.findtext(f"{ATOM}id") or "")
        link = entry.find(f"{ATOM}link[@rel='alternate']")
        assert link is not None or entry.find(f"{ATOM}content") is not None  # RFC 4287 4.1.2
        assert link is None or (link.get("href") or "").startswith("https://")
        assert entry.find(f"{ATOM}summary").get("type") == "text"  # type: ignore[union-attr]
    ids = [entry.findtext(f"{ATOM}id") for entry in found]
    assert len(ids) == len(set(ids))
    assert {element.tag.rpartition("}")[0] + "}" for element in feed.iter()} == {ATOM}
    return found


def test_feedparser_reads_every_hit_as_text(web: Served) -> None:
    body = atom(web, "/feeds/hits.atom")
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    titles = [entry.title for entry in parsed.entries]
    assert titles[:5] == [title for *_, title in HITS[:5]]  # newest stored first
    assert "国家网信办发布新规" in parsed.entries[1].summary  # Chinese intact in the snippet
    hostile = parsed.entries[5]
    assert hostile.title == SHOWN
    assert hostile.link == "https://news.example/6?a=1&b=%22x%22%3Cy%3E"
    assert (
        "<script>alert(1)</script>" in hostile.summary and "Matched: term, <i>" in hostile.summary
    )
    assert [e.link for e in parsed.entries[:5]] == [
        f"https://news.example/{n}" for n in range(1, 6)
    ]
    assert all(e.id.startswith("tag:governance-monitor.invalid,2026:hit/") for e in parsed.entries)
    first = parsed.entries[0]
    assert first.source.title == "Example <Wire>"
    assert {tag.term for tag in first.tags} == {"gfw", "en"}
    assert first.published_parsed[:3] == (NOW - timedelta(days=1)).timetuple()[:3]
    assert first.updated_parsed[:4] == (NOW - timedelta(hours=1)).timetuple()[:4]
    assert parsed.feed.links[0].rel == "self"


def test_the_document_is_well_formed_atom_with_nothing_live(web: Served) -> None:
    body = atom(web, "/feeds/hits.atom")
    found = entries(body)
    assert len(found) == len(HITS)
    assert b"<script" not in body and b"]]>" not in body  # escaped, never markup or CDATA
    text = body.decode("utf-8")
    assert not CONTROLS.search(text)
    assert "国家网信办发布新规" in text and "防火長城再升級" in text  # UTF-8, not entities
    langs = [entry.get("{http://www.w3.org/XML/1998/namespace}lang") for entry in found]
    assert langs == [language for _, _, language, _ in HITS]


def test_entry_ids_do_not_depend_on_the_request(web: Served) -> None:
    def ids(body: bytes) -> dict[str, str]:
        return {
            e.findtext(f"{ATOM}title") or "": e.findtext(f"{ATOM}id") or "" for e in entries(body)
        }

    plain = atom(web, "/feeds/hits.atom")
    elsewhere = atom(web, "/feeds/hits.atom?limit=3", {"Host": "monitor.example:8443"})
    profile = atom(web, "/feeds/profiles/gfw.atom")
    assert ids(plain).items() >= ids(elsewhere).items() and len(ids(elsewhere)) == 3
    assert ids(plain).items() >= ids(profile).items()
    assert b"monitor.example:8443" in elsewhere  # only the self link names the host


def test_a_subscriber_gets_each_hit_once(web: Served, archive: Engine, tmp_path: Path) -> None:
    url = web.base + "/feeds/hits.atom"
    subscriber = make_reader(str(tmp_path / "reader.sqlite"))
    try:
        subscriber.add_feed(url)
        (first,) = subscriber.update_feeds_iter(scheduled=False)
        assert first.error is None and first.updated_feed is not None
        assert first.updated_feed.new == len(HITS)
        before = {entry.id: entry.title for entry in subscriber.get_entries()}
        assert sorted(t or "" for t in before.values()) == sorted(
            [*(t for *_, t in HITS[:5]), SHOWN]
        )
        (unchanged,) = subscriber.update_feeds_iter(scheduled=False)
        assert unchanged.not_modified  # the server answered 304 to reader's own request
        _store(archive, -1, "gfw", "zh", "网信办约谈平台")
        _store(archive, -2, "cac", "ru", "Роскомнадзор и ЦАК")
        (second,) = subscriber.update_feeds_iter(scheduled=False)
        assert second.updated_feed is not None
        assert (second.updated_feed.new, second.updated_feed.modified) == (2, 0)
        after = [(entry.id, entry.title) for entry in subscriber.get_entries()]
        assert len(after) == len({entry_id for entry_id, _ in after}) == len(HITS) + 2
        assert dict(after).items() >= before.items()
        assert {"网信办约谈平台", "Роскомнадзор и ЦАК"} <= {title for _, title in after}
    finally:
        subscriber.close()


def test_conditional_requests_answer_304_until_a_hit_arrives(web: Served, archive: Engine) -> None:
    status, headers, _ = fetch(web, "/feeds/hits.atom")
    etag, modified = headers["etag"], headers["last-modified"]
    assert status == 200 and modified == format_datetime(NOW - timedelta(hours=1), usegmt=True)
    assert fetch(web, "/feeds/hits.atom", {"If-None-Match": etag})[::2] == (304, b"")
    assert fetch(web, "/feeds/hits.atom", {"If-Modified-Since": modified})[::2] == (304, b"")
    assert fetch(web, "/feeds/hits.atom", {"If-None-Match": f'"other", W/{etag}'})[0] == 304
    assert fetch(web, "/feeds/hits.atom", {"If-None-Match": '"other"'})[0] == 200
    assert fetch(web, "/feeds/hits.atom?language=en", {"If-None-Match": etag})[0] == 200

    _store(archive, -1, "gfw", "en", "A newer hit")
    status, headers, body = fetch(web, "/feeds/hits.atom", {"If-None-Match": etag})
    assert status == 200 and headers["etag"] != etag and b"A newer hit" in body
    assert fetch(web, "/feeds/hits.atom", {"If-Modified-Since": modified})[0] == 200
    newer = headers["etag"]

    _store(archive, 7, "cac", "en", "Stored late, dated earlier")  # not the newest stored
    status, headers, body = fetch(web, "/feeds/hits.atom", {"If-None-Match": newer})
    assert status == 200 and headers["etag"] != newer and b"Stored late" in body


def test_the_profile_feed_holds_that_profile_and_filters_narrow(web: Served) -> None:
    def titles(path: str) -> list[str]:
        return [e.findtext(f"{ATOM}title") or "" for e in entries(atom(web, path))]

    gfw = entries(atom(web, "/feeds/profiles/gfw.atom"))
    assert [e.find(f"{ATOM}category").get("term") for e in gfw] == ["gfw"] * 3  # type: ignore[union-attr]
    assert titles("/feeds/profiles/gfw.atom?language=ru") == ["Великий файрвол"]
    assert titles("/feeds/hits.atom?language=zh") == ["国家网信办发布新规", "防火長城再升級"]
    assert titles("/feeds/hits.atom?language=zh-Hant") == ["防火長城再升級"]  # zh: any variant
    since = (NOW - timedelta(days=2, hours=12)).isoformat().replace("+00:00", "Z")
    assert titles(f"/feeds/hits.atom?since={since}") == [HITS[0][3], HITS[1][3]]
    until = (NOW - timedelta(days=4, hours=12)).isoformat().replace("+00:00", "Z")
    assert titles(f"/feeds/profiles/cac.atom?until={until}") == [HITS[4][3], SHOWN]
    assert titles("/feeds/hits.atom?limit=2") == [HITS[0][3], HITS[1][3]]
    assert titles("/feeds/hits.atom?feed=Nowhere") == []
    assert titles("/feeds/hits.atom?feed=%3Cb%3E%01%EF%BF%BE&language=%00") == []  # still XML
    assert titles("/feeds/profiles/great_firewall.atom") == []  # configured, no hit yet

    status, _, body = fetch(web, "/feeds/profiles/nosuch.atom")
    assert status == 404 and b'"no profile nosuch"' in body
    assert web.get("/feeds/hits.atom?limit=501")[0] == 400
    feed_id = etree.fromstring(atom(web, "/feeds/hits.atom?language=zh")).findtext(f"{ATOM}id")
    assert feed_id == "tag:governance-monitor.invalid,2026:feed/hits?language=zh"


def test_a_link_that_is_no_web_address_is_left_out(web: Served, archive: Engine) -> None:
    feed_id = feeds.feed_rows(archive)["https://news.example/rss"].id or 0
    articles.store_article(
        archive,
        feed_id=feed_id,
        entry=Entry("g-js", "javascript:alert(1)", "Scripted link", "", NOW),
        article=Article("https://news.example/js", "Scripted link", "text", language="en"),
        matches=[Match("gfw", "v1", ["term"], 1.0, "the **term**")],
        routes={},
        now=NOW,
    )
    body = atom(web, "/feeds/profiles/gfw.atom?limit=1")
    (entry,) = entries(body)
    assert entry.find(f"{ATOM}link") is None and b"javascript:" not in body
    assert entry.findtext(f"{ATOM}content") == entry.findtext(f"{ATOM}summary")
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0 and parsed.entries[0].title == "Scripted link"
