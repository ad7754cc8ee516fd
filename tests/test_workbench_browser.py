"""The profile editor in a real browser (Debian's chromium driven by Playwright) against a real
`monitor run` process polling a feed on 127.0.0.1: sign in, an invalid edit is shown as you
type and refused, a valid one is saved with the file's comments, the running service picks it
up and the new term matches the next article; the backtest panel shows what the unsaved query
adds and removes. Screenshots of each step go to $MONITOR_TEST_SCREENSHOTS (see
tests/test_web_browser.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine

from tests.conftest import REPO, free_port, wait_until
from tests.loopback import LoopbackServer, QuietHandler, serving
from tests.test_suggestions import judged  # noqa: F401  (a fixture)
from tests.test_web_browser import browser, screenshots  # noqa: F401  (fixtures)
from tests.test_workbench_web import _serve as serve_app

pytestmark = pytest.mark.slow

TOKEN = "a-long-enough-web-token"
WATCH = """\
# Watch: the profile the reader edits. Kept through every save.
description: Export controls
query: '"export control"'   # one phrase for now
tags: [test]
"""
ARTICLES = {
    "first": ("Export control list grows", "The export control list grew by twelve items."),
    "second": ("Semiconductor sanctions widen", "New semiconductor sanctions were announced."),
}


class Site(LoopbackServer):
    """A feed whose entries the test publishes one at a time, and their article pages."""

    def __init__(self) -> None:
        super().__init__(_Pages)
        self.published: list[str] = []

    def feed(self) -> bytes:
        items = "".join(
            f"<item><title>{ARTICLES[key][0]}</title><link>{self.base}/a/{key}.html</link>"
            f"<guid>{key}</guid><pubDate>{format_datetime(datetime.now(UTC))}</pubDate></item>"
            for key in self.published
        )
        return (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
            f"<link>{self.base}/</link><description>w</description>{items}</channel></rss>"
        ).encode()


class _Pages(QuietHandler):
    server: Site

    def do_GET(self) -> None:
        if self.path == "/feed.xml":
            body, kind = self.server.feed(), "application/rss+xml"
        elif self.path.startswith("/a/") and self.path[3:-5] in ARTICLES:
            title, text = ARTICLES[self.path[3:-5]]
            paragraphs = "".join(f"<p>{text} {n} More context follows here.</p>" for n in range(6))
            body = (
                f"<!DOCTYPE html><html lang='en'><head><title>{title}</title></head><body>"
                f"<article><h1>{title}</h1>{paragraphs}</article></body></html>"
            ).encode()
            kind = "text/html; charset=utf-8"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def service(tmp_path: Path, config_dir: Path) -> Iterator[tuple[str, Site, Path]]:
    """`monitor run` over a SQLite file, polling the site every minute (the shortest
    interval), serving the web application with a token on a free port."""
    for old in (config_dir / "profiles").iterdir():
        old.unlink()
    (config_dir / "profiles" / "watch.yaml").write_text(WATCH, encoding="utf-8")
    port = free_port()
    with serving(Site()) as site:
        site.published.append("first")  # there at the first poll: the next is a minute away
        (config_dir / "feeds.yaml").write_text(f"feeds:\n  - url: {site.base}/feed.xml\n")
        (config_dir / "monitor.yaml").write_text(
            "tick: 1s\npoll_interval: 1m\nextract:\n  workers: 1\n"
            f"server:\n  port: {port}\nweb:\n  token: {TOKEN}\n"
        )
        env = {**os.environ, "MONITOR_CONFIG_DIR": "", "MONITOR_DATABASE_URL": ""}
        env["MONITOR_DATABASE_URL"] = f"sqlite:///{tmp_path / 'monitor.db'}"
        log = (tmp_path / "service.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, str(REPO / "run_monitor.py"), "--config", str(config_dir)],
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until(
                lambda: b"serving the web" in (tmp_path / "service.log").read_bytes(),
                60,
                "the service's web application",
            )
            yield base, site, config_dir
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
            log.close()


def _hits(page: Page) -> int:
    page.reload()
    return page.locator("li.hit").count()


def test_a_reader_edits_a_profile_and_the_service_matches_the_new_term(
    browser: Browser,  # noqa: F811
    service: tuple[str, Site, Path],
    screenshots: Path,  # noqa: F811
) -> None:
    base, site, config = service
    page = browser.new_page(viewport={"width": 1100, "height": 1000})
    page.goto(f"{base}/hits")
    wait_until(lambda: _hits(page) == 1, 90, "the first hit")

    page.goto(f"{base}/login?next=/profiles/watch/edit")
    page.get_by_label("Token").fill(TOKEN)
    page.get_by_label("Your name").fill("Analyst A")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Edit profile watch")).to_be_visible()

    query = page.get_by_label("Query")
    query.fill('"export control" OR (semiconductor NEAR/3 sanction*')
    check = page.locator("#check")
    expect(check).to_contain_text("✗", timeout=10_000)  # told as you type
    expect(check).to_contain_text("line 3")
    page.screenshot(path=screenshots / "editor-invalid-as-typed.png", full_page=True)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#problem")).to_contain_text("Not valid")
    page.screenshot(path=screenshots / "editor-invalid-refused.png", full_page=True)
    assert (config / "profiles" / "watch.yaml").read_text(encoding="utf-8") == WATCH

    page.get_by_label("Query").fill("sanction*")  # would drop the stored hit: backtest it
    expect(check).to_contain_text("✓ valid", timeout=10_000)
    page.locator("summary", has_text="Backtest").click()
    page.get_by_role("button", name="Backtest").click()
    result = page.locator("#backtest-result")
    expect(result).to_contain_text("1 would be removed")
    expect(result).to_contain_text("0 would be added")  # the 2nd article is not stored yet
    expect(result.locator("ul.removed li")).to_contain_text("Export control list grows")
    page.screenshot(path=screenshots / "editor-backtest.png", full_page=True)
    assert (config / "profiles" / "watch.yaml").read_text(encoding="utf-8") == WATCH

    page.get_by_label("Query").fill('"export control" OR (semiconductor NEAR/3 sanction*)')
    expect(check).to_contain_text("✓ valid", timeout=10_000)

    page.get_by_label("Note for the history").fill("semiconductor sanctions too")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Profile watch")).to_be_visible()
    saved = (config / "profiles" / "watch.yaml").read_text(encoding="utf-8")
    assert "# Watch: the profile the reader edits." in saved and "# one phrase" in saved
    assert "semiconductor NEAR/3 sanction*" in saved
    page.screenshot(path=screenshots / "profile-after-save.png", full_page=True)

    site.published.append("second")  # the service has the new query at its next tick
    page.goto(f"{base}/hits?profile=watch")
    wait_until(lambda: _hits(page) == 2, 120, "the second hit, by the edited query")
    expect(page.get_by_role("link", name="Semiconductor sanctions widen")).to_be_visible()
    page.screenshot(path=screenshots / "hits-after-edit.png", full_page=True)

    page.goto(f"{base}/profiles/watch/history")
    expect(page.locator("li.version").first).to_contain_text("Analyst A")
    expect(page.locator("li.version").first).to_contain_text("semiconductor sanctions too")
    page.screenshot(path=screenshots / "history.png", full_page=True)
    page.close()


def test_a_suggestion_from_feedback_is_accepted_into_the_editor_and_saved(
    browser: Browser,  # noqa: F811
    judged: tuple[Engine, dict[str, int]],  # noqa: F811
    config_dir: Path,
    screenshots: Path,  # noqa: F811
) -> None:
    engine, _ = judged  # "firewall": censorship stories relevant, product pages not
    for base in serve_app(engine, config_dir, TOKEN):
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(f"{base}/login?next=/profiles/firewalls/suggestions")
        page.get_by_label("Token").fill(TOKEN)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Suggestions for firewalls")).to_be_visible()
        row = page.locator("table.suggestions tr.exclude").first
        expect(row).to_contain_text("next-generation")
        # each product page judged not relevant, with the phrases of its own as exclusions
        own = page.locator("ul.by-hit > li")
        expect(own).to_have_count(3)
        expect(own.first.locator("a.accept").first).to_contain_text("AND NOT")
        page.screenshot(path=screenshots / "suggestions.png", full_page=True)
        row.get_by_role("link", name="Open in the editor").click()
        expect(page.locator(".notice")).to_contain_text("holds a suggestion")
        query = page.get_by_label("Query").input_value()
        assert "AND NOT" in query and "next-generation" in query
        expect(page.locator("#check")).to_contain_text("✓ valid", timeout=10_000)
        page.screenshot(path=screenshots / "suggestion-in-editor.png", full_page=True)
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("heading", name="Profile firewalls")).to_be_visible()
        saved = (config_dir / "profiles" / "firewalls.yaml").read_text(encoding="utf-8")
        assert "AND NOT" in saved and "next-generation" in saved
        page.close()
