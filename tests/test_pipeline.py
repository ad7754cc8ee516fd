"""One feed through the stages when parts of the web fail: dead pages, non-HTML links,
entries without links, a broken feed next to a good one, and conditional GET."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine
from sqlmodel import Session, select
from werkzeug import Request, Response

from monitor.models import Match
from monitor.pipeline.poll import REVALIDATE_EVERY
from monitor.profiles.evaluate import FoldedField
from monitor.profiles.matcher import Matcher
from monitor.profiles.profile import Doc
from monitor.runtime.lifecycle import run_once
from monitor.runtime.service import Service
from monitor.store.feeds import feed_rows
from monitor.store.hits import query_hits
from monitor.store.tables import ArticleRow
from tests.conftest import open_database

pytestmark = pytest.mark.slow  # processes, servers or whole cycles: `make test-quick` skips it

GFW_TEXT = "Observers say the Great Firewall now blocks more foreign news sites than ever."


@pytest.fixture
def service(sqlite_url: str, config_dir: Path) -> Iterator[tuple[Service, Engine]]:
    (config_dir / "monitor.yaml").write_text("extract:\n  workers: 1\n")
    settings, engine = open_database(config_dir, sqlite_url)
    yield Service(config_dir, settings, engine), engine
    engine.dispose()


def _use_feeds(service: Service, *urls: str) -> None:
    (service.config_dir / "feeds.yaml").write_text(
        "feeds:\n" + "".join(f"  - url: {u}\n" for u in urls)
    )
    service.reload()


def test_failed_pages_fall_back_to_the_entry_text(
    service: tuple[Service, Engine], httpserver: HTTPServer
) -> None:
    svc, engine = service
    httpserver.expect_request("/dead.html").respond_with_data("gone", status=404)
    httpserver.expect_request("/report.pdf").respond_with_data(
        b"%PDF-1.7", content_type="application/pdf"
    )
    items = "".join(
        f"<item><title>Story {n}</title>{link}<guid>g{n}</guid>"
        f"<description>{GFW_TEXT}</description></item>"
        for n, link in [
            (1, f"<link>{httpserver.url_for('/dead.html')}</link>"),
            (2, f"<link>{httpserver.url_for('/report.pdf')}</link>"),
            (3, ""),
        ]
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        f'<rss version="2.0"><channel><title>T</title>{items}</channel></rss>',
        content_type="application/rss+xml",
    )
    _use_feeds(svc, httpserver.url_for("/feed.xml"))

    report = asyncio.run(run_once(svc))

    assert report.entries_new == 3
    assert report.hits == 3  # every entry matched great_firewall on its own text
    with Session(engine) as session:
        notes = {a.title: (a.source, a.note or "") for a in session.exec(select(ArticleRow))}
    assert notes["Story 1"][0] == "entry" and "HTTP status 404" in notes["Story 1"][1]
    assert notes["Story 2"] == ("entry", "page skipped: content type application/pdf")
    assert notes["Story 3"] == ("entry", "the entry has no link")


def test_a_broken_feed_does_not_stop_the_others(
    service: tuple[Service, Engine], httpserver: HTTPServer
) -> None:
    svc, engine = service
    httpserver.expect_request("/broken.xml").respond_with_data(
        "<html><body>not a feed", content_type="text/html"
    )
    httpserver.expect_request("/ok.xml").respond_with_data(
        f'<rss version="2.0"><channel><title>OK</title><item><title>{GFW_TEXT}</title>'
        "<guid>1</guid></item></channel></rss>",
        content_type="application/rss+xml",
    )
    _use_feeds(
        svc,
        httpserver.url_for("/broken.xml"),
        httpserver.url_for("/ok.xml"),
        "http://127.0.0.1:1/refused",
    )

    report = asyncio.run(run_once(svc))

    assert (report.feeds_polled, report.feeds_failed, report.hits) == (3, 2, 1)
    rows = feed_rows(engine)
    assert rows[httpserver.url_for("/ok.xml")].last_status == "ok"
    broken = rows[httpserver.url_for("/broken.xml")]
    assert broken.last_status == "error" and "not a feed" in (broken.last_error or "")
    refused = rows["http://127.0.0.1:1/refused"]
    assert refused.consecutive_failures == 1 and "127.0.0.1:1" in (refused.last_error or "")


def test_unchanged_feed_is_answered_304(
    service: tuple[Service, Engine], httpserver: HTTPServer
) -> None:
    svc, engine = service
    seen: list[str | None] = []

    def handler(request: Request) -> Response:
        seen.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(
            '<rss version="2.0"><channel><title>T</title>'
            "<item><title>x</title><guid>1</guid></item></channel></rss>",
            headers={"ETag": '"v1"'},
            content_type="application/rss+xml",
        )

    httpserver.expect_request("/feed.xml").respond_with_handler(handler)
    _use_feeds(svc, httpserver.url_for("/feed.xml"))
    asyncio.run(run_once(svc))
    asyncio.run(run_once(svc, everything=True))
    assert seen == [None, '"v1"']
    assert feed_rows(engine)[httpserver.url_for("/feed.xml")].last_status == "not_modified"


class _FailsOn:
    """A matcher that breaks on one headline, standing in for a bug met by one entry."""

    def __init__(self, real: Matcher, title: str) -> None:
        self.real, self.title = real, title

    def match(self, doc: Doc, fields: dict[str, FoldedField] | None = None) -> list[Match]:
        if doc.title == self.title:
            raise RuntimeError("matcher bug")
        return self.real.match(doc, fields)


def test_an_entry_that_fails_is_retried_and_does_not_fail_its_feed(
    service: tuple[Service, Engine], httpserver: HTTPServer
) -> None:
    svc, engine = service
    items = "".join(
        f"<item><title>{title}</title><guid>{title}</guid>"
        f"<description>{GFW_TEXT}</description></item>"
        for title in ("Fine", "Boom")
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        f'<rss version="2.0"><channel><title>T</title>{items}</channel></rss>',
        content_type="application/rss+xml",
        headers={"ETag": '"v1"'},
    )
    _use_feeds(svc, httpserver.url_for("/feed.xml"))
    real = svc.matcher
    svc.matcher = _FailsOn(real, "Boom")  # type: ignore[assignment]

    first = asyncio.run(run_once(svc))

    assert (first.feeds_failed, first.entries_new, first.hits) == (0, 1, 1)
    assert feed_rows(engine)[httpserver.url_for("/feed.xml")].etag is None  # refetch in full
    svc.matcher = real
    second = asyncio.run(run_once(svc, everything=True))
    assert (second.entries_new, second.hits) == (1, 1)


def test_markup_and_invisible_characters_do_not_hide_terms_and_hidden_text_never_matches(
    service: tuple[Service, Engine], httpserver: HTTPServer
) -> None:
    svc, engine = service
    filler = (
        "<p>"
        + "Officials met in the capital to discuss trade, transport and tourism. " * 6
        + "</p>"
    )
    pages = {
        "/split.html": (
            "<p>Critics say the Great <b>Firewall</b> and 防火\u200b长城 now block Gmail.</p>"
        ),
        "/hidden.html": (
            "<script>var t = 'Great Firewall';</script>"
            "<style>.gfw:after{content:'防火长城'}</style><!-- Great Firewall -->"
        ),
    }
    for path, body in pages.items():
        httpserver.expect_request(path).respond_with_data(
            f"<html><head><title>T</title></head><body><article><h1>Report</h1>{body}{filler}"
            "</article></body></html>",
            content_type="text/html; charset=utf-8",
        )
    items = "".join(
        f"<item><title>Report {p}</title><link>{httpserver.url_for(p)}</link>"
        f"<guid>{p}</guid></item>"
        for p in pages
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        f'<rss version="2.0"><channel><title>T</title>{items}</channel></rss>',
        content_type="application/rss+xml",
    )
    _use_feeds(svc, httpserver.url_for("/feed.xml"))
    asyncio.run(run_once(svc))
    hits = {(h.title, h.profile): h for h in query_hits(engine)}
    split = hits[("Report /split.html", "great_firewall")]
    assert split.matched_on == "page"
    assert {"great firewall", "防火长城"} <= {t.lower() for t in split.matched_terms}
    assert not any(title == "Report /hidden.html" for title, _ in hits)


def test_hits_on_entry_text_say_so(service: tuple[Service, Engine], httpserver: HTTPServer) -> None:
    svc, engine = service
    httpserver.expect_request("/dead.html").respond_with_data("gone", status=404)
    httpserver.expect_request("/feed.xml").respond_with_data(
        f'<rss version="2.0"><channel><title>T</title><item><title>Dead link</title>'
        f"<link>{httpserver.url_for('/dead.html')}</link><guid>1</guid>"
        f"<description>{GFW_TEXT}</description></item></channel></rss>",
        content_type="application/rss+xml",
    )
    _use_feeds(svc, httpserver.url_for("/feed.xml"))
    asyncio.run(run_once(svc))
    [hit] = [h for h in query_hits(engine) if h.profile == "great_firewall"]
    assert hit.matched_on == "entry" and "404" in (hit.note or "")


def test_a_web_page_given_as_feed_is_answered_by_autodiscovery(
    service: tuple[Service, Engine], httpserver: HTTPServer
) -> None:
    svc, engine = service
    httpserver.expect_request("/news/").respond_with_data(
        '<html><head><link rel="alternate" type="application/rss+xml" href="/news/rss.xml">'
        "</head><body><h1>News</h1></body></html>",
        content_type="text/html",
    )
    httpserver.expect_request("/news/rss.xml").respond_with_data(
        f'<rss version="2.0"><channel><title>News</title><item><title>{GFW_TEXT}</title>'
        "<guid>1</guid></item></channel></rss>",
        content_type="application/rss+xml",
    )
    _use_feeds(svc, httpserver.url_for("/news/"))
    report = asyncio.run(run_once(svc))
    assert (report.feeds_failed, report.entries_new, report.hits) == (0, 1, 1)
    row = feed_rows(engine)[httpserver.url_for("/news/")]
    assert (row.status, row.discovered_url) == ("ok", httpserver.url_for("/news/rss.xml"))
    asked = len(httpserver.log)
    asyncio.run(run_once(svc, everything=True))  # the discovered feed is polled directly
    assert [r.path for r, _ in httpserver.log[asked:]] == ["/news/rss.xml"]
    httpserver.clear()  # the page's feed disappears: forgotten, the page is asked again
    httpserver.expect_request("/news/rss.xml").respond_with_data("gone", status=404)
    asyncio.run(run_once(svc, everything=True))
    assert feed_rows(engine)[httpserver.url_for("/news/")].discovered_url is None


def test_a_lying_304_cannot_hide_new_entries_forever(
    service: tuple[Service, Engine], httpserver: HTTPServer
) -> None:
    svc, _engine = service
    items = [f"<item><title>{GFW_TEXT}</title><guid>first</guid></item>"]

    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match"):
            return Response(status=304)  # says "unchanged" whatever happened
        body = f'<rss version="2.0"><channel><title>T</title>{"".join(items)}</channel></rss>'
        return Response(body, headers={"ETag": '"v1"'}, content_type="application/rss+xml")

    httpserver.expect_request("/feed.xml").respond_with_handler(handler)
    _use_feeds(svc, httpserver.url_for("/feed.xml"))
    asyncio.run(run_once(svc))
    items.append(f"<item><title>Second: {GFW_TEXT}</title><guid>second</guid></item>")
    new = [asyncio.run(run_once(svc, everything=True)).entries_new for _ in range(REVALIDATE_EVERY)]
    assert sum(new) == 1  # found at the periodic full fetch …
    assert new.index(1) == REVALIDATE_EVERY - 2  # … within REVALIDATE_EVERY polls


def test_an_edited_entry_does_not_alert_again(
    service: tuple[Service, Engine], httpserver: HTTPServer
) -> None:
    svc, engine = service
    title = [f"Breaking: {GFW_TEXT}"]

    def handler(request: Request) -> Response:
        date = format_datetime(datetime.now(UTC))
        return Response(
            f'<rss version="2.0"><channel><title>T</title><item><title>{title[0]}</title>'
            f"<guid>story-1</guid><pubDate>{date}</pubDate></item></channel></rss>",
            content_type="application/rss+xml",
        )

    httpserver.expect_request("/feed.xml").respond_with_handler(handler)
    _use_feeds(svc, httpserver.url_for("/feed.xml"))
    asyncio.run(run_once(svc))  # first poll: backfill
    title[0] = f"Updated: {GFW_TEXT} Officials respond."
    edited = asyncio.run(run_once(svc, everything=True))
    assert (edited.entries_new, edited.hits, edited.alerts_created) == (0, 0, 0)
    assert len(query_hits(engine)) == 1
