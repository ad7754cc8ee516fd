"""The long-running service: scheduled cycles, clean stop on SIGTERM, configuration reloads,
and the backfill rule for a feed's first poll."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Set
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from monitor.errors import ExtractorUnavailable
from monitor.ingest.describe import describe_text
from monitor.ingest.fetch import Fetcher
from monitor.ingest.prune import parse_pruned
from monitor.models import Extracted, ParsedFeed, WebPage
from monitor.profiles.profile import Doc
from monitor.runtime.lifecycle import run_once
from monitor.runtime.service import Service
from monitor.store.backlog import alert_counts
from monitor.store.engine import open_engine
from monitor.store.hits import query_hits
from tests.conftest import REPO, RecordingSender, open_database
from tests.newsroom import serve_newsroom

pytestmark = pytest.mark.slow  # processes, servers or whole cycles: `make test-quick` skips it


def _wait_for(path: Path, text: str, process: subprocess.Popen[bytes], seconds: float) -> str:
    """Wait until the log file contains `text` (or the process ends, or time runs out)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        content = path.read_text(encoding="utf-8", errors="replace")
        if text in content:
            return content
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not logged; log so far:\n{path.read_text()}")


def test_service_polls_on_schedule_and_stops_cleanly_on_sigterm(
    tmp_path: Path, config_dir: Path, httpserver: HTTPServer
) -> None:
    site = serve_newsroom(httpserver)
    (config_dir / "feeds.yaml").write_text(f"feeds:\n  - url: {site.zh_feed}\n")
    (config_dir / "monitor.yaml").write_text("tick: 1s\nextract:\n  workers: 1\n")
    log = tmp_path / "service.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, str(REPO / "run_monitor.py"), "--config", str(config_dir)],
            cwd=tmp_path,
            stdout=sink,
            stderr=sink,
            env={**os.environ, "MONITOR_CONFIG_DIR": "", "MONITOR_SERVER_PORT": "0"},
        )
        try:
            _wait_for(log, "cycle feeds_polled=1", process, seconds=120)
            _wait_for(log, "cycle feeds_polled=0", process, seconds=30)  # next tick: not due
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0
        finally:
            if process.poll() is None:
                process.kill()
    content = log.read_text()
    assert "SIGTERM received" in content and "monitor stopped" in content
    assert "Traceback" not in content
    engine = open_engine(f"sqlite:///{tmp_path / 'data' / 'monitor.db'}")
    assert {h.profile for h in query_hits(engine)} >= {"china_cyber_regulator", "great_firewall"}
    engine.dispose()


def test_broken_profile_on_reload_keeps_the_previous_profiles(
    sqlite_url: str, config_dir: Path
) -> None:
    settings, engine = open_database(config_dir, sqlite_url)
    service = Service(config_dir, settings, engine)
    before = [p.name for p in service.loaded.profiles]
    (config_dir / "profiles" / "great_firewall.yaml").write_text("match:\n  any: [unclosed\n")
    service.reload()
    assert [p.name for p in service.loaded.profiles] == before
    assert service.matcher.match(Doc("", "The Great Firewall of China"))
    engine.dispose()


def test_first_poll_backfills_without_alerts_then_new_entries_alert(
    sqlite_url: str, config_dir: Path, httpserver: HTTPServer
) -> None:
    """Undated entries on a feed's first poll are treated as old: stored, matched, no alert.
    Entries appearing later alert, dated or not; a dated entry past max_age never does."""
    serve_newsroom(httpserver)  # the article pages

    page = httpserver.url_for("/zh/wangxinban.html")

    def feed(items: list[tuple[str, str | None]]) -> str:
        body = "".join(
            f"<item><title>Wangxinban {guid}</title><link>{page}?n={guid}</link><guid>{guid}</guid>"
            + (f"<pubDate>{date}</pubDate>" if date else "")
            + "</item>"
            for guid, date in items
        )
        return f'<rss version="2.0"><channel><title>T</title>{body}</channel></rss>'

    now = datetime.now(UTC)
    old = format_datetime(now - timedelta(days=8))
    fresh = format_datetime(now - timedelta(hours=1))
    first = [("undated-1", None), ("old-1", old)]
    second = [*first, ("undated-2", None), ("fresh-2", fresh), ("old-2", old)]
    (config_dir / "feeds.yaml").write_text(f"feeds:\n  - url: {httpserver.url_for('/feed.xml')}\n")
    (config_dir / "monitor.yaml").write_text("extract:\n  workers: 1\n")
    settings, engine = open_database(config_dir, sqlite_url)
    service = Service(config_dir, settings, engine)

    httpserver.expect_oneshot_request("/feed.xml").respond_with_data(
        feed(first), content_type="application/rss+xml"
    )
    backfill = asyncio.run(run_once(service))
    assert backfill.entries_new == 2 and backfill.hits > 0
    assert backfill.alerts_created == 0

    httpserver.expect_oneshot_request("/feed.xml").respond_with_data(
        feed(second), content_type="application/rss+xml"
    )
    later = asyncio.run(run_once(service, everything=True))
    assert later.entries_new == 3
    alerted = {h.url.rsplit("=", 1)[1] for h in query_hits(engine) if h.profile == "great_firewall"}
    assert alerted == {"undated-1", "old-1", "undated-2", "fresh-2", "old-2"}  # all stored …
    per_entry = later.hits // 3
    assert later.alerts_created == 2 * per_entry  # … but only undated-2 and fresh-2 alert
    assert alert_counts(engine) == {"sent": 2 * per_entry}
    engine.dispose()


def test_edited_profiles_are_picked_up_and_bad_edits_reported(
    sqlite_url: str, config_dir: Path
) -> None:
    (config_dir / "alerts.yaml").write_text(
        "channels:\n  - url: json://127.0.0.1:1/ops\n    name: ops\n    tags: [system]\n"
        "  - url: json://127.0.0.1:1/analyst\n    name: analyst\n    tags: [wic]\n"
    )
    settings, engine = open_database(config_dir, sqlite_url)
    sender = RecordingSender()
    service = Service(config_dir, settings, engine, sender=sender)
    doc = Doc("", "The bakery on the corner sells sourdough")
    assert not service.reload()  # nothing changed on disk
    path = config_dir / "profiles" / "bakery.yaml"
    path.write_text('description: bread\nquery: sourdough OR "rye bread"\n')
    assert service.reload()
    assert [m.profile for m in service.matcher.match(doc)] == ["bakery"]

    path.write_text("description: bread\nquery: sourdough OR\n")  # an invalid edit
    assert not service.reload()
    assert [m.profile for m in service.matcher.match(doc)] == ["bakery"]  # previous version
    service.outbox.deliver()
    assert [(key, m.title) for key, m in sender.sent] == [
        ("ops", "[monitor] Configuration not reloaded")
    ]
    assert "bakery.yaml" in sender.sent[0][1].body
    assert not service.reload()  # reported once, not at every tick
    service.outbox.deliver()
    assert len(sender.sent) == 1

    path.write_text("description: bread\nquery: baguette\n")  # fixed
    assert service.reload()
    assert service.matcher.match(doc) == []
    engine.dispose()


@pytest.mark.parametrize(
    ("query", "column", "message"),
    [
        ("NOT " * 10_000 + "rye", 8 + 4 * 32, "the query nests too deeply"),
        ("rye NEAR/" + "9" * 5_000 + " bread", 12, "NEAR/n: the distance is at most 1000 words"),
        (" NEAR/2 ".join(["rye"] * 3_000), 8 + 11 * 15 + 4, "a NEAR chain joins at most 16"),
    ],
)
def test_a_query_past_its_bounds_on_reload_is_a_notice_not_a_crash(
    sqlite_url: str, config_dir: Path, query: str, column: int, message: str
) -> None:
    (config_dir / "alerts.yaml").write_text(
        "channels:\n  - url: json://127.0.0.1:1/ops\n    name: ops\n    tags: [system]\n"
    )
    path = config_dir / "profiles" / "bakery.yaml"
    path.write_text("description: bread\nquery: sourdough\n")
    settings, engine = open_database(config_dir, sqlite_url)
    sender = RecordingSender()
    service = Service(config_dir, settings, engine, sender=sender)
    doc = Doc("", "The bakery on the corner sells sourdough")

    path.write_text(f"description: bread\nquery: {query}\n")  # written while it runs
    assert not service.reload()
    assert [m.profile for m in service.matcher.match(doc)] == ["bakery"]  # previous version
    service.outbox.deliver()
    [(channel, notice)] = sender.sent
    assert (channel, notice.title) == ("ops", "[monitor] Configuration not reloaded")
    assert f"{path}:2:{column}: query: {message}" in notice.body
    assert len(notice.body) < 1000  # the query around the place, not all of it
    engine.dispose()


def test_a_runaway_template_on_reload_is_a_notice_not_a_hang(
    sqlite_url: str, config_dir: Path
) -> None:
    (config_dir / "alerts.yaml").write_text(
        "channels:\n  - url: json://127.0.0.1:1/ops\n    name: ops\n    tags: [system]\n"
    )
    settings, engine = open_database(config_dir, sqlite_url)
    sender = RecordingSender()
    service = Service(config_dir, settings, engine, sender=sender)
    path = config_dir / "templates" / "notice.markdown.j2"
    path.parent.mkdir()
    loop = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    path.write_text("{{ notice.body }}\n" + loop + "\n")  # 10^10 turns
    assert not service.reload()
    service.outbox.deliver()  # with the templates it had: the built-in ones
    [(channel, notice)] = sender.sent
    assert (channel, notice.title) == ("ops", "[monitor] Configuration not reloaded")
    assert f"{path}:2: over a template limit: the render passed 1,000,000 steps" in notice.body


class _NoExtractor:
    """WorkerJobs whose extractor cannot load (as WorkerPool reports it once a replaced
    worker fails to import trafilatura); everything else done in this process."""

    async def parse(
        self, body: bytes, url: str, content_type: str, now: datetime, known: Set[str]
    ) -> ParsedFeed | WebPage:
        return parse_pruned(body, url, content_type, now, known)

    async def extract(self, html: bytes, url: str) -> Extracted | None:
        raise ExtractorUnavailable(
            f"{url}: extraction unavailable: the worker processes cannot import trafilatura "
            "(ModuleNotFoundError: No module named 'trafilatura')",
            "trafilatura",
        )

    async def describe(self, text: str) -> tuple[str | None, bytes | None]:
        return describe_text(text)


def test_an_extractor_lost_while_running_is_told_once_and_entries_match_on_their_text(
    sqlite_url: str, config_dir: Path, httpserver: HTTPServer
) -> None:
    site = serve_newsroom(httpserver)
    (config_dir / "feeds.yaml").write_text(f"feeds:\n  - url: {site.en_feed}\n")
    (config_dir / "alerts.yaml").write_text("channels:\n  - url: json://127.0.0.1:1/ops\n")
    settings, engine = open_database(config_dir, sqlite_url)
    sender = RecordingSender()
    service = Service(config_dir, settings, engine, sender=sender)

    async def cycles() -> list[int]:
        async with Fetcher(settings.fetch) as fetcher:
            first = await service.cycle(fetcher, _NoExtractor(), everything=True)
            again = await service.cycle(fetcher, _NoExtractor(), everything=True)
        return [first.entries_new, again.entries_new]

    assert asyncio.run(cycles()) == [3, 0]
    hits = query_hits(engine)
    assert "great_firewall" in {h.profile for h in hits}  # matched on the entry's title
    notices = [m for _, m in sender.sent if m.title.startswith("[monitor]")]
    assert [m.title for m in notices] == ["[monitor] Article extraction unavailable"]  # once
    assert "cannot import trafilatura" in notices[0].body
    engine.dispose()
