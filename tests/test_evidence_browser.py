"""The evidence pages in a real browser (Debian's chromium driven by Playwright): a hit's
history with the side-by-side diff of its edits, and the hit list narrowed to articles
removed since a day; screenshots of both."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from pytest_httpserver import HTTPServer

from monitor.store.hits import query_hits
from tests.test_evidence_recheck import START, changes_classified_and_announced
from tests.test_web_api import _serve
from tests.test_web_browser import browser, screenshots  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow


def test_a_hits_history_and_the_removed_ones_in_the_browser(
    browser: Browser,  # noqa: F811
    sqlite_url: str,
    config_dir: Path,
    httpserver: HTTPServer,
    screenshots: Path,  # noqa: F811
) -> None:
    with ThreadPoolExecutor(1) as thread:  # Playwright's sync API holds this thread's loop
        story = thread.submit(changes_classified_and_announced, sqlite_url, config_dir, httpserver)
        engine, site, folder = story.result()
    edited = next(h.id for h in query_hits(engine) if h.url == site.url("edited"))
    for served in _serve(engine, config_dir, None, evidence_dir=folder):
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(f"{served.base}/hits/{edited}/evidence")
        expect(page.locator("table.evidence tbody tr")).to_have_count(3)
        expect(page.locator(".diff del").first).to_contain_text("Monday")
        expect(page.locator(".diff ins").first).to_contain_text("Tuesday")
        page.screenshot(path=screenshots / "evidence-history.png", full_page=True)
        page.goto(f"{served.base}/hits")
        page.get_by_label("Article now").select_option("removed")
        page.get_by_label("changed since").fill(START.date().isoformat())
        page.get_by_role("button", name="Show").click()
        expect(page.locator("li.hit")).to_have_count(5)
        page.screenshot(path=screenshots / "hits-removed.png", full_page=True)
        page.close()
    engine.dispose()
