"""The pages in a real browser (Debian's chromium driven by Playwright): what a person checks.
Chinese and Russian headlines on screen, the chart's bars, filters, the pages with JavaScript
off, signing in. Screenshots of every page go to $MONITOR_TEST_SCREENSHOTS (default: the test's
temporary folder); the path is printed.

Skipped without chromium, unless MONITOR_TEST_REQUIRE_BROWSER=1 (CI), which fails instead."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import Engine

from monitor.store.engine import open_engine, upgrade
from tests.test_web_api import _serve
from tests.test_web_pages import STORIES, TOKEN, Story, build_archive

pytestmark = pytest.mark.slow

BUSY_DAY = 5  # days ago: four great_firewall hits, the peak of its chart
BROWSER_STORIES = [
    *STORIES,
    *(Story(f"busy{n}", "great_firewall", "en", f"Busy day {n}", BUSY_DAY) for n in range(4)),
    *(Story(f"sov{n}", "cyber_sovereignty", "en", f"Sovereignty {n}", 6) for n in range(50)),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        reason = f"no chromium at {executable} (apt-get install chromium fonts-noto-cjk)"
        if os.environ.get("MONITOR_TEST_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}; MONITOR_TEST_REQUIRE_BROWSER=1 makes this an error")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("MONITOR_TEST_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {folder}")
    return folder


@pytest.fixture
def archive(sqlite_url: str) -> Iterator[Engine]:
    engine = open_engine(sqlite_url)
    upgrade(engine)
    build_archive(engine, BROWSER_STORIES)
    yield engine
    engine.dispose()


@pytest.fixture
def site(archive: Engine, config_dir: Path) -> Iterator[str]:
    for served in _serve(archive, config_dir, None):
        yield served.base


def _titles(page: Page) -> list[str]:
    return [title.strip() for title in page.locator("li.hit h3").all_inner_texts()]


def test_a_reader_sees_the_pages(browser: Browser, site: str, screenshots: Path) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(f"{site}/hits")
    for title in ("国家网信办发布新规", "防火長城再升級", "Великий файрвол"):
        assert page.get_by_role("link", name=title, exact=True).is_visible(), title
    assert page.locator("h3[lang='zh']").first.inner_text() == "国家网信办发布新规"
    page.screenshot(path=screenshots / "hits.png", full_page=True)
    page.screenshot(path=screenshots / "hits-first-screen.png")

    page.goto(f"{site}/profiles/great_firewall")
    bars = page.locator("svg.chart rect")
    assert bars.count() == 30  # one per day
    today = datetime.now(UTC).date()

    def bar(days_ago: int) -> tuple[float, str]:
        found = page.locator(f"svg.chart rect[data-day='{today - timedelta(days=days_ago)}']")
        box = found.bounding_box()
        height = box["height"] if box else 0.0
        return height, found.locator("title").text_content() or ""

    busy, busy_tip = bar(BUSY_DAY)  # 4 hits
    two, two_tip = bar(3)  # 2 hits
    quiet, quiet_tip = bar(2)  # none
    assert busy > 50 and abs(two / busy - 0.5) < 0.02 and quiet == 0
    assert busy_tip.endswith(": 4 hits") and two_tip.endswith(": 2 hits") and "0 hits" in quiet_tip
    label = page.locator("svg.chart").get_attribute("aria-label") or ""
    assert "Hits of great_firewall" in label and "10 in all" in label
    page.screenshot(path=screenshots / "profile.png", full_page=True)

    page.goto(site)
    assert page.locator("table.profiles tbody tr").count() == 5
    assert page.locator("table.profiles svg").first.locator("rect").count() == 14
    page.screenshot(path=screenshots / "overview.png", full_page=True)
    page.get_by_role("link", name="Feeds", exact=True).click()
    assert page.get_by_text("failing", exact=True).is_visible()
    page.screenshot(path=screenshots / "feeds.png", full_page=True)
    page.goto(f"{site}/hits?profile=great_firewall")
    page.get_by_role("link", name="story").first.click()
    assert page.get_by_text("Other Wire").is_visible()
    page.screenshot(path=screenshots / "story.png", full_page=True)
    page.goto(f"{site}/stories/999999")
    assert page.get_by_role("heading", name="404 Not Found").is_visible()
    page.screenshot(path=screenshots / "not-found.png", full_page=True)
    page.close()


def test_filters_and_pages_work_with_javascript_off(browser: Browser, site: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site}/hits")
    page.select_option("select[name=profile]", "china_cyber_regulator")
    page.get_by_role("button", name="Show").click()
    assert "profile=china_cyber_regulator" in page.url
    assert _titles(page) == ["国家网信办发布新规"]

    page.goto(f"{site}/hits")
    page.fill("input[name=language]", "ru")
    page.get_by_role("button", name="Show").click()
    assert _titles(page) == ["Великий файрвол"]

    page.goto(f"{site}/hits?profile=cyber_sovereignty")
    first = _titles(page)
    page.get_by_role("link", name="Older →").click()
    second = _titles(page)
    assert len(first) == 50 and len(second) == 2 and not set(first) & set(second)
    assert page.get_by_role("link", name="Older →").count() == 0
    context.close()


def test_the_search_box_finds_a_two_character_chinese_word(
    browser: Browser, site: str, screenshots: Path
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site}/hits")
    page.fill("input[name=q]", "网信")
    page.get_by_role("button", name="Show").click()
    assert _titles(page) == ["国家网信办发布新规"]
    assert page.locator("li.hit mark").first.inner_text() in {"网信", "网信办"}
    assert page.locator("input[name=q]").input_value() == "网信"  # the box keeps the query
    page.screenshot(path=screenshots / "search.png", full_page=True)
    page.fill("input[name=q]", "網信")  # Traditional finds Simplified
    page.get_by_role("button", name="Show").click()
    assert _titles(page) == ["国家网信办发布新规"]
    page.fill("input[name=q]", "firewall AND (")
    page.get_by_role("button", name="Show").click()
    assert page.get_by_text("line 1, column").is_visible()  # where the query is wrong
    context.close()


def test_signing_in_in_the_browser(
    browser: Browser, archive: Engine, config_dir: Path, screenshots: Path
) -> None:
    for served in _serve(archive, config_dir, TOKEN):
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        page.goto(f"{served.base}/hits?profile=great_firewall")
        assert page.url.startswith(f"{served.base}/login?next=")
        page.screenshot(path=screenshots / "login.png", full_page=True)
        page.fill("input[name=token]", "not-the-token")
        page.get_by_role("button", name="Sign in").click()
        assert page.get_by_role("alert").inner_text() == "Wrong token."
        page.fill("input[name=token]", TOKEN)
        page.get_by_role("button", name="Sign in").click()
        assert page.url == f"{served.base}/hits?profile=great_firewall"
        assert "Busy day 0" in _titles(page)
        (cookie,) = context.cookies()
        assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"]) == (
            "monitor_token",
            True,
            "Strict",
        )
        context.close()
