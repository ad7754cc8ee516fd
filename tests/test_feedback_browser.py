"""Feedback in a real browser (chromium, JavaScript off: the pages have none): a reader signs
in, marks a hit "Not relevant" with a note and sees it; someone without the token follows an
alert's link, confirms, and the verdict is recorded. Skipped without chromium, as
tests/test_web_browser.py is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from sqlalchemy import Engine

from monitor.alerts.feedbacklinks import sign
from monitor.store.hits import hit_by_id, query_hits
from monitor.store.sitekeys import site_key
from tests.test_web_api import _serve
from tests.test_web_browser import archive, browser, screenshots  # noqa: F401  (fixtures)
from tests.test_web_pages import TOKEN

pytestmark = pytest.mark.slow


def test_a_reader_marks_a_hit_and_an_alert_link_confirms_one(
    browser: Browser,  # noqa: F811
    archive: Engine,  # noqa: F811
    config_dir: Path,
    screenshots: Path,  # noqa: F811
) -> None:
    firewall = {h.title: h.id for h in query_hits(archive, profile="great_firewall")}
    hit, other = firewall["Busy day 0"], firewall["Busy day 1"]
    for served in _serve(archive, config_dir, TOKEN):
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        page.goto(f"{served.base}/login?next=%2Fhits%3Fprofile%3Dgreat_firewall")
        page.fill("input[name=token]", TOKEN)
        page.fill("input[name=name]", "Ana")
        page.get_by_role("button", name="Sign in").click()
        item = page.locator(f"#hit-{hit}")
        item.locator("input[name=note]").fill("a drill, not censorship")
        item.get_by_role("button", name="Not relevant").click()
        assert page.url == f"{served.base}/hits?profile=great_firewall#hit-{hit}"
        shown = page.locator(f"#hit-{hit} p.verdict").inner_text()
        assert "not relevant" in shown and "a drill, not censorship" in shown and "Ana" in shown
        page.screenshot(path=screenshots / "feedback.png", full_page=True)
        stored = hit_by_id(archive, hit)
        assert stored is not None and stored.feedback is not None
        assert (stored.feedback.relevant, stored.feedback.by) == (False, "Ana")
        context.close()

        stranger = browser.new_context(java_script_enabled=False)  # no cookie, no token
        page = stranger.new_page()
        expires = datetime.now(UTC) + timedelta(days=30)
        signed = sign(site_key(archive, "feedback"), other, False, expires)  # "Not relevant"
        page.goto(f"{served.base}/feedback/{signed}")
        assert page.locator("h1").inner_text() == "Is this hit not relevant?"
        assert hit_by_id(archive, other).feedback is None  # type: ignore[union-attr]
        page.get_by_label("Note (optional)").fill("a product review")
        page.screenshot(path=screenshots / "alert-link-confirm.png", full_page=True)
        page.get_by_role("button", name="Confirm: not relevant").click()
        assert page.locator("h1").inner_text() == "Recorded: not relevant"
        page.screenshot(path=screenshots / "alert-link-recorded.png", full_page=True)
        judged = hit_by_id(archive, other)
        assert judged is not None and judged.feedback is not None
        assert (judged.feedback.relevant, judged.feedback.by) == (False, "alert link")
        assert judged.feedback.note == "a product review"
        stranger.close()
