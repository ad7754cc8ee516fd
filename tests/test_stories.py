"""Stories: a syndicated copy of an article joins its story; one alert per story per profile,
listing the other outlets; unrelated articles stay apart."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from monitor.service import Service
from monitor.store.hits import query_hits
from monitor.stories import THRESHOLD, signature, similarity
from tests.conftest import open_database
from tests.newsroom import UNRELATED_TEXT, article_page, seed_text

WIRE = [p for p in seed_text().splitlines() if p.strip()]


def test_signatures_tell_copies_from_other_stories() -> None:
    original = "\n".join(WIRE)
    copy = "BEIJING (Wire) — " + original.replace("Sputnik", "Agencies") + "\nReporting by staff."
    other = UNRELATED_TEXT + " ".join(WIRE[:1])  # another story sharing one paragraph
    a, b, c = signature(original), signature(copy), signature(other)
    assert a is not None and b is not None and c is not None
    assert similarity(a, b) >= THRESHOLD > similarity(a, c)
    assert signature("Too short to tell.") is None


def test_one_alert_per_story_lists_the_other_outlets(
    sqlite_url: str, config_dir: Path, httpserver: HTTPServer
) -> None:
    copy = [f"By Wire Staff. {WIRE[0]}", *WIRE[1:], "Copyright the wire service."]
    pages = {"/a/original.html": WIRE, "/b/copy.html": copy}
    for path, paragraphs in pages.items():
        httpserver.expect_request(path).respond_with_data(
            article_page("WIC opens in Wuzhen", paragraphs), content_type="text/html"
        )
    for name, path in (("a", "/a/original.html"), ("b", "/b/copy.html")):
        httpserver.expect_request(f"/{name}/feed.xml").respond_with_data(
            f'<rss version="2.0"><channel><title>Outlet {name.upper()}</title><item>'
            f"<title>WIC opens in Wuzhen</title><link>{httpserver.url_for(path)}</link>"
            f"<guid>{path}</guid><pubDate>{format_datetime(datetime.now(UTC))}</pubDate>"
            "</item></channel></rss>",
            content_type="application/rss+xml",
        )
    received: list[dict[str, Any]] = []

    def hook(request: Request) -> Response:
        received.append(json.loads(request.get_data()))
        return Response("ok")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(hook)
    (config_dir / "feeds.yaml").write_text(
        "".join(
            ["feeds:\n"]
            + [
                f"  - url: {httpserver.url_for(f'/{n}/feed.xml')}\n    name: Outlet {n.upper()}\n"
                for n in "ab"
            ]
        )
    )
    (config_dir / "alerts.yaml").write_text(
        f"channels:\n  - url: {httpserver.url_for('/hook').replace('http://', 'json://')}\n"
    )
    (config_dir / "monitor.yaml").write_text("extract:\n  workers: 1\n")
    settings, engine = open_database(config_dir, sqlite_url)

    report = asyncio.run(Service(config_dir, settings, engine).run_once())

    hits = query_hits(engine)
    profiles = {h.profile for h in hits}
    assert {h.url for h in hits} == {httpserver.url_for(p) for p in pages}  # both stored …
    assert len({h.story_id for h in hits}) == 1  # … as one story
    assert report.alerts_created == len(profiles) == len(received)  # one alert per profile
    for message in received:
        assert "Also carried by" in message["message"]
    engine.dispose()
