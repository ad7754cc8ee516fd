"""One feed's poll with fake collaborators and a fixed clock: no database, no HTTP, no worker
processes. The pipeline's seams (monitor.pipeline.ports) are what these fakes stand in for;
tests/test_pipeline.py runs the same behaviours end to end through a Service."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from monitor.config.settings import FetchSettings, Settings
from monitor.errors import FetchBlocked, FetchStatus
from monitor.ingest.fetch import Response
from monitor.ingest.prune import parse_pruned
from monitor.models import (
    Article,
    DueFeed,
    Entry,
    Extracted,
    Match,
    ParsedFeed,
    PollRecord,
    PollResult,
    Route,
    StoredEntry,
    WebPage,
)
from monitor.pipeline.context import PollContext
from monitor.pipeline.cycle import poll_due
from monitor.pipeline.entry import OVER_POLL_BUDGET
from monitor.pipeline.poll import poll_feed
from monitor.profiles.profile import Doc

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
FEED = "https://news.example/feed.xml"
GFW = "Observers say the Great Firewall now blocks more foreign news sites than ever."
SIGNATURE = bytes(range(256)) * 2  # 128 slots of 4 bytes, as a MinHash signature has
ROUTES = {"gfw": [Route("mail")]}


@dataclass
class FakeStore:
    """A PollStore in memory: what was stored, and what the pipeline asked."""

    guids: dict[int, set[str]] = field(default_factory=dict)  # feed id → stored GUIDs
    articles: dict[str, int] = field(default_factory=dict)  # canonical URL → article id
    candidates: list[tuple[int, bytes]] = field(default_factory=list)
    stored: list[dict[str, Any]] = field(default_factory=list)
    linked: list[tuple[int, str, int]] = field(default_factory=list)
    records: list[PollRecord] = field(default_factory=list)
    due: list[DueFeed] = field(default_factory=list)  # handed out by the first claim
    released: list[int] = field(default_factory=list)
    extended: list[tuple[list[int], datetime]] = field(default_factory=list)

    def unavailable(self, exc: BaseException) -> str | None:
        return None  # in memory: never down

    def claim_due(self, now: datetime, **_: Any) -> list[DueFeed]:
        claimed, self.due = self.due, []
        return claimed

    def release_leases(self, feed_ids: list[int]) -> None:
        self.released.extend(feed_ids)

    def extend_leases(self, leases: dict[int, datetime], until: datetime) -> None:
        self.extended.append((sorted(leases), until))

    def record_polls(self, records: list[PollRecord]) -> None:
        self.records.extend(records)

    def stored_guids(self, feed_id: int, guids: Iterable[str]) -> set[str]:
        return self.guids.get(feed_id, set()) & set(guids)

    def known_guids(self, feed_id: int) -> set[str]:
        return set(self.guids.get(feed_id, set()))

    def article_id_for(self, url: str) -> int | None:
        return self.articles.get(url)

    def link_entry(self, feed_id: int, entry: Entry, article_id: int, now: datetime) -> None:
        self.linked.append((feed_id, entry.guid, article_id))

    def story_candidates(self, band_values: list[int], since: datetime) -> list[tuple[int, bytes]]:
        assert since == NOW - timedelta(days=7)
        return self.candidates

    def store_article(self, **kw: Any) -> StoredEntry:
        article: Article = kw["article"]
        entry: Entry = kw["entry"]
        self.stored.append(kw)
        self.guids.setdefault(kw["feed_id"], set()).add(entry.guid)
        article_id = self.articles.setdefault(article.url, len(self.articles) + 1)
        alerts = sum(len(kw["routes"].get(m.profile, [])) for m in kw["matches"])
        return StoredEntry(article_id, len(kw["matches"]), alerts)


class FakeWeb:
    """A Fetch serving documents from a dict (bytes and content type, or an error)."""

    def __init__(self, pages: dict[str, tuple[bytes, str] | Exception]) -> None:
        self.pages = pages
        self.asked: list[str] = []

    async def get(self, url: str, **_: Any) -> Response:
        self.asked.append(url)
        if url not in self.pages:  # a server that never answers
            await asyncio.Event().wait()
        page = self.pages[url]
        if isinstance(page, Exception):
            raise page
        body, kind = page
        return Response(url, 200, body, kind, None, None)


class FakePool:
    """WorkerJobs in this process: a page's text is its bytes; every text gets SIGNATURE."""

    async def parse(
        self, body: bytes, url: str, content_type: str, now: datetime, known: Set[str]
    ) -> ParsedFeed | WebPage:
        return parse_pruned(body, url, content_type, now, known)

    async def extract(self, html: bytes, url: str) -> Extracted | None:
        text = html.decode()
        return Extracted(text, None, None, "Outlet", "en", None, SIGNATURE) if text else None

    async def describe(self, text: str) -> tuple[str | None, bytes | None]:
        return "en", SIGNATURE


class GreatFirewall:
    """A MatchAll with one profile, `gfw`, matching texts that name the Great Firewall."""

    def match(self, doc: Doc, fields: object = None) -> list[Match]:
        found = "Great Firewall" in f"{doc.title} {doc.text}"
        return [Match("gfw", "v1", ["Great Firewall"], 1.0, "…")] if found else []


def rss(*items: str) -> tuple[bytes, str]:
    body = f'<rss version="2.0"><channel><title>News</title>{"".join(items)}</channel></rss>'
    return body.encode(), "application/rss+xml"


def item(guid: str, link: str | None = None, text: str = GFW, published: str = "") -> str:
    date = f"<pubDate>{published}</pubDate>" if published else ""
    link_tag = f"<link>{link}</link>" if link else ""
    fields = f"<guid>{guid}</guid><title>{guid}</title>{link_tag}{date}"
    return f"<item>{fields}<description>{text}</description></item>"


def feed(**kw: Any) -> DueFeed:
    values: dict[str, Any] = {
        "id": 1,
        "url": FEED,
        "name": None,
        "interval_seconds": 600,
        "etag": None,
        "last_modified": None,
        "first_poll": False,
    }
    return DueFeed(**(values | kw))


def context(web: FakeWeb, store: FakeStore, settings: Settings | None = None) -> PollContext:
    return PollContext(
        store=store,
        fetcher=web,
        pool=FakePool(),
        matcher=GreatFirewall(),
        routes=ROUTES,
        settings=settings or Settings(),
        clock=lambda: NOW,
        limit=asyncio.Semaphore(4),
    )


def poll(
    due: DueFeed, web: FakeWeb, store: FakeStore, settings: Settings | None = None
) -> PollResult:
    async def go() -> PollResult:
        ctx = context(web, store, settings)
        result = await poll_feed(due, ctx)
        await ctx.recorder.flush()
        return result

    return asyncio.run(go())


def test_only_entries_this_feed_has_not_stored_are_processed() -> None:
    store = FakeStore(guids={1: {"g1"}})
    web = FakeWeb({FEED: rss(item("g1"), item("g2"), item("g2"), item("g3"))})
    result = poll(feed(), web, store)
    assert [kw["entry"].guid for kw in store.stored] == ["g2", "g3"]  # g2 once
    assert (result.status, result.entries, result.entries_new, result.hits) == ("ok", 3, 2, 2)
    assert result.alerts == 2


def test_an_article_stored_under_the_same_url_is_linked_not_fetched() -> None:
    store = FakeStore(articles={"https://other.example/story": 41})
    web = FakeWeb({FEED: rss(item("g1", "https://other.example/story"))})
    result = poll(feed(), web, store)
    assert store.linked == [(1, "g1", 41)]
    assert store.stored == [] and web.asked == [FEED]
    assert (result.entries_new, result.hits) == (1, 0)


def test_a_page_that_fails_is_matched_on_the_entry_text() -> None:
    link = "https://news.example/dead.html"
    web = FakeWeb({FEED: rss(item("g1", link)), link: FetchStatus(link, 404)})
    store = FakeStore()
    result = poll(feed(), web, store)
    [stored] = store.stored
    article: Article = stored["article"]
    assert (article.source, article.text, article.language) == ("entry", GFW, "en")
    assert article.note is not None and "HTTP status 404" in article.note
    assert [m.profile for m in stored["matches"]] == ["gfw"] and result.hits == 1


def test_a_near_duplicate_joins_the_earlier_story() -> None:
    link = "https://news.example/copy.html"
    web = FakeWeb({FEED: rss(item("g1", link)), link: (GFW.encode(), "text/html")})
    store = FakeStore(candidates=[(7, SIGNATURE), (9, bytes(512))])
    poll(feed(), web, store)
    [stored] = store.stored
    assert stored["story_id"] == 7  # the same signature; story 9's shares no slot
    assert len(stored["band_values"]) == 16


def test_a_text_unlike_every_candidate_starts_its_own_story() -> None:
    store = FakeStore(candidates=[(9, bytes(512))])
    poll(feed(), FakeWeb({FEED: rss(item("g1"))}), store)
    assert store.stored[0]["story_id"] is None


@pytest.mark.parametrize(
    ("published", "first_poll", "alerts"),
    [
        ("Thu, 19 Nov 2026 12:00:00 +0000", False, True),  # a day old
        ("Mon, 09 Nov 2026 12:00:00 +0000", False, False),  # older than alerts.max_age (7d)
        ("", False, True),  # undated on a later poll: new
        ("", True, False),  # undated in a backfill: counted as old
    ],
)
def test_old_entries_are_stored_and_matched_but_alert_no_one(
    published: str, first_poll: bool, alerts: bool
) -> None:
    store = FakeStore()
    result = poll(
        feed(first_poll=first_poll), FakeWeb({FEED: rss(item("g1", published=published))}), store
    )
    assert result.hits == 1
    assert (store.stored[0]["routes"] == ROUTES) is alerts
    assert result.alerts == (1 if alerts else 0)


PAGE = b'<html><head><link rel="alternate" type="application/rss+xml" href="/rss"></head></html>'


def test_a_web_page_is_followed_to_the_feed_it_announces() -> None:
    alternate = "https://news.example/rss"
    web = FakeWeb({FEED: (PAGE, "text/html"), alternate: rss(item("g1"))})
    store = FakeStore()
    result = poll(feed(), web, store)
    assert web.asked == [FEED, alternate]
    assert (result.status, result.entries_new, result.discovered_url) == ("ok", 1, alternate)
    [record] = store.records
    assert record.result.discovered_url == alternate


def test_a_discovered_feed_that_turns_into_a_page_is_forgotten() -> None:
    alternate = "https://news.example/rss"
    web = FakeWeb({alternate: (PAGE, "text/html")})
    store = FakeStore()
    result = poll(feed(discovered_url=alternate), web, store)
    assert web.asked == [alternate]  # fetched directly, and not followed again
    assert (result.status, result.error_category, result.discovered_url) == (
        "error",
        "not_a_feed",
        "",
    )
    assert (
        result.error is not None and "not a feed but a web page (1 feed link found)" in result.error
    )


def test_the_next_poll_follows_the_interval_and_backs_off_on_failures() -> None:
    ok, failing = FakeStore(), FakeStore()
    poll(feed(), FakeWeb({FEED: rss(item("g1"))}), ok)
    assert ok.records[0].next_poll_at == NOW + timedelta(seconds=600)
    broken = FakeWeb({FEED: FetchStatus(FEED, 503)})
    result = poll(feed(consecutive_failures=3), broken, failing)
    assert (result.status, result.error_category) == ("error", "http_5xx")
    delay = (failing.records[0].next_poll_at - NOW).total_seconds()
    assert 600 * 8 * 0.9 <= delay <= 600 * 8 * 1.1  # the 4th failure in a row: 8 × ±10 %


def test_an_entry_that_fails_forgets_the_validators() -> None:
    class Broken(FakeStore):
        def store_article(self, **kw: Any) -> StoredEntry:
            if kw["entry"].guid == "g2":
                raise RuntimeError("disk on fire")
            return super().store_article(**kw)

    store = Broken()
    result = poll(feed(), FakeWeb({FEED: rss(item("g1"), item("g2"))}), store)
    assert (result.status, result.entries_new, result.error) == ("ok", 1, "1 entries failed")
    assert result.body_hash is None and result.etag is None  # the next poll reads it all again


def dated(n: int) -> str:
    """An item linking to page n, published n hours before NOW."""
    published = format_datetime(NOW - timedelta(hours=n))
    return item(f"g{n}", f"https://site.example/{n}.html", published=published)


def site(*numbers: int) -> FakeWeb:
    pages: dict[str, tuple[bytes, str] | Exception] = {FEED: rss(*(dated(n) for n in numbers))}
    pages.update({f"https://site.example/{n}.html": (GFW.encode(), "text/html") for n in numbers})
    return FakeWeb(pages)


def test_one_poll_fetches_the_pages_of_its_newest_entries_only() -> None:
    store, web = FakeStore(), site(5, 1, 4, 2, 3)
    settings = Settings(fetch=FetchSettings(max_pages_per_poll=2))
    result = poll(feed(), web, store, settings)
    assert web.asked == [FEED, "https://site.example/1.html", "https://site.example/2.html"]
    sources = {kw["entry"].guid: kw["article"].source for kw in store.stored}
    assert sources == {"g1": "page", "g2": "page", "g3": "entry", "g4": "entry", "g5": "entry"}
    assert store.stored[-1]["article"].note == OVER_POLL_BUDGET
    assert (result.entries_new, result.hits) == (5, 5)  # none dropped: all matched


def test_a_host_over_its_page_budget_waits_for_a_later_poll() -> None:
    store, web = FakeStore(), site(1, 2, 3, 4)
    settings = Settings(fetch=FetchSettings(max_pages_per_host=3))
    first = poll(feed(), web, store, settings)
    assert (first.status, first.entries_new, len(store.stored)) == ("ok", 3, 3)
    assert first.body_hash is None  # the document is read again at the next poll
    second = poll(feed(), web, store, settings)  # the next cycle: a new budget
    assert (second.entries_new, len(store.stored)) == (1, 4)
    assert all(kw["article"].source == "page" for kw in store.stored)


def test_the_cycle_deadline_stops_a_slow_poll_and_releases_its_feed() -> None:
    slow = feed(id=2, url="https://slow.example/feed.xml")
    store = FakeStore(due=[feed(), slow])
    web = FakeWeb({FEED: rss(item("g1"))})  # the slow feed's server never answers

    async def go() -> list[PollResult]:
        ctx = context(web, store, Settings(cycle_deadline=0.5))
        return await poll_due(ctx, everything=False, stopping=asyncio.Event(), watch=None)

    results = asyncio.run(go())
    assert [r.feed for r in results] == [FEED]  # the finished poll is kept
    assert [record.feed_id for record in store.records] == [1]
    assert store.released == [2]  # claimed, unfinished: free for the next cycle


def test_documents_that_are_no_feed_fail_their_poll() -> None:
    page = b"<html><head><title>News</title></head><body>no feed here</body></html>"
    for body, kind, category in [
        (bytes(range(256)) * 8, "application/octet-stream", "parse_error"),
        (page, "text/html", "not_a_feed"),
    ]:
        result = poll(feed(), FakeWeb({FEED: (body, kind)}), FakeStore())
        assert (result.status, result.error_category) == ("error", category)


def test_a_failed_poll_stores_its_error_without_the_feed_urls_credentials() -> None:
    secret = "https://reader:hunter2@news.example/feed.xml?token=tok-8f2a&page=1"
    store = FakeStore()
    poll(feed(url=secret), FakeWeb({secret: FetchStatus(secret, 401)}), store)
    [record] = store.records
    error = record.result.error or ""
    assert "hunter2" not in error and "tok-8f2a" not in error
    assert error.startswith("https://reader:****@news.example/feed.xml?token=****&page=1")


def test_links_the_address_policy_refuses_are_told_once_per_feed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    links = ["http://10.0.0.7/a.html", "http://10.0.0.7/b.html"]
    refused: dict[str, tuple[bytes, str] | Exception] = {
        link: FetchBlocked(link, "address 10.0.0.7 is private") for link in links
    }
    refused[FEED] = rss(item("g1", links[0]), item("g2", links[1]))
    web = FakeWeb(refused)
    store = FakeStore()
    caplog.set_level("WARNING", logger="monitor.poll")
    result = poll(feed(), web, store)
    told = [r.getMessage() for r in caplog.records if "fetch.allow_networks" in r.getMessage()]
    assert len(told) == 1 and "address 10.0.0.7 is private" in told[0]
    assert result.hits == 2  # both matched on their own text
    assert all(kw["article"].source == "entry" for kw in store.stored)


def test_a_long_poll_keeps_its_lease() -> None:
    slow = feed(id=2, url="https://slow.example/feed.xml")
    store = FakeStore(due=[feed(), slow])
    web = FakeWeb({FEED: rss(item("g1"))})  # the slow feed's server never answers

    async def go() -> None:
        ctx = context(web, store, Settings(cycle_deadline=1.0, lease=0.3))
        await poll_due(ctx, everything=False, stopping=asyncio.Event(), watch=None)

    asyncio.run(go())
    assert store.extended, "the lease of the poll still running was never renewed"
    assert all(2 in ids for ids, _ in store.extended)
    # (feed 1's result cleared its lease: the store leaves it alone, tests/test_store.py)


class _AwayStore(FakeStore):
    """A store whose database went away: renewing the leases fails, as it would in an outage."""

    def extend_leases(self, leases: dict[int, datetime], until: datetime) -> None:
        self.extended.append((sorted(leases), until))
        raise OSError("could not connect to server: Connection refused\n\tIs the server running?")


def test_leases_not_renewed_in_an_outage_are_one_line_and_the_cycle_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    slow = feed(id=2, url="https://slow.example/feed.xml")
    store = _AwayStore(due=[feed(), slow])
    web = FakeWeb({FEED: rss(item("g1"))})  # the slow feed's server never answers
    caplog.set_level("WARNING")

    async def go() -> None:
        ctx = context(web, store, Settings(cycle_deadline=1.0, lease=0.3))
        await poll_due(ctx, everything=False, stopping=asyncio.Event(), watch=None)

    asyncio.run(go())
    assert len(store.extended) >= 2  # tried again after the first failure
    told = [r.getMessage() for r in caplog.records if "leases not renewed" in r.getMessage()]
    assert told == ["leases not renewed: could not connect to server: Connection refused"]
    assert not [r for r in caplog.records if r.exc_info or "never retrieved" in r.getMessage()]
