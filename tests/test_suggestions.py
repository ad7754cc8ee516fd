"""Suggestions from readers' feedback: the core on small hand-written texts (the exclusion a
person would write is found, a phrase relevant hits hold is not suggested, every suggested
query parses and, matched again, does what it says; additions from missed articles), and
`GET /api/v1/profiles/NAME/suggestions` over a real database (SQLite and PostgreSQL) with
hits and feedback stored, served by uvicorn on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from monitor.models import Article, Entry, FeedSpec
from monitor.profiles.evaluate import FoldedField
from monitor.profiles.files import load_profiles
from monitor.profiles.matcher import Matcher
from monitor.profiles.normalize import fold
from monitor.profiles.profile import Doc, Profile
from monitor.profiles.query import parse_query
from monitor.store import articles, feeds
from monitor.store.archive import hits_of_article
from monitor.store.feedback import add_missed, give_feedback
from monitor.workbench.phrases import own_terms, phrases
from monitor.workbench.suggestions import Labelled, Missed, Suggestion, suggest
from monitor.workbench.variants import quoted
from tests.test_web_api import Served, _serve

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

# A profile that says "firewall" and means China's: the network-security sense slips in.
CENSORSHIP = [
    "China's firewall now blocks Google and Wikipedia for users on the mainland.",
    "Researchers say the firewall of China filtered more foreign news sites this year.",
    "Students climb over the firewall with VPN apps that regulators keep removing.",
    "The firewall tightened again before the party congress, blocking Telegram.",
]
PRODUCTS = [
    "The vendor launched a next-generation firewall appliance for branch offices.",
    "Our review compares each next-generation firewall appliance on throughput and price.",
    "A next-generation firewall inspects traffic at the application layer, the vendor said.",
]


def _profile(query: str, name: str = "firewalls") -> Profile:
    return Profile(name=name, version="v1", query=parse_query(query), query_text=query)


def _labelled(relevant: list[str], wrong: list[str]) -> list[Labelled]:
    texts = [(t, True) for t in relevant] + [(t, False) for t in wrong]
    return [Labelled(i + 1, "", text, "en", ok) for i, (text, ok) in enumerate(texts)]


def _matches(query: str, text: str) -> bool:
    return bool(Matcher([_profile(query)]).match(Doc("", text, language="en")))


def _exclusions(found: tuple[Suggestion, ...]) -> list[Suggestion]:
    return [s for s in found if s.kind == "exclude"]


def test_the_exclusion_a_person_would_write_comes_first() -> None:
    labelled = _labelled(CENSORSHIP, PRODUCTS)
    found = suggest(_profile("firewall"), labelled)
    assert (found.relevant, found.not_relevant, found.precision) == (4, 3, 4 / 7)
    best = _exclusions(found.items)[0]
    assert "next-generation" in best.phrase, [s.fragment for s in found.items]
    assert best.false_positives == (5, 6, 7) and best.relevant_lost == ()
    assert best.fragment == f"AND NOT {quoted(best.phrase)}"
    assert best.query == f"firewall\n{best.fragment}"
    # taken into the query, it removes the product pages and keeps every censorship story
    assert not any(_matches(best.query, text) for text in PRODUCTS)
    assert all(_matches(best.query, text) for text in CENSORSHIP)


def test_every_exclusion_parses_removes_what_it_claims_and_spares_relevant_hits() -> None:
    labelled = _labelled(CENSORSHIP, PRODUCTS)
    found = suggest(_profile("firewall"), labelled)
    assert _exclusions(found.items)
    relevant = [fold(t)[0] for t in CENSORSHIP]
    for item in _exclusions(found.items):
        parse_query(item.query)  # a QueryError fails the test
        assert not any(item.phrase in text for text in relevant), item.phrase
        removed = {t.key for t in labelled if not _matches(item.query, t.text)}
        assert removed == set(item.false_positives), item.fragment
        assert item.phrase != "firewall"  # the profile's own term is no exclusion


def test_a_phrase_relevant_hits_share_is_not_suggested() -> None:
    """The word vendor is on every product page, and on one censorship story too: excluding
    it would lose that story, so it is not offered (a more specific phrase is)."""
    relevant = [*CENSORSHIP, "A Chinese vendor helped build the firewall that blocks Gmail."]
    found = suggest(_profile("firewall"), _labelled(relevant, PRODUCTS))
    phrases_offered = [s.phrase for s in _exclusions(found.items)]
    assert "vendor" not in phrases_offered
    assert any("next-generation" in p for p in phrases_offered)


CASTLE = (
    "The firewall of the old castle is a thick stone wall that the first lord of the valley "
    "built long before any computer existed. Visitors walk along the castle ramparts for an "
    "hour, and the guide told us the new exhibition also covers the spy network GhostNet "
    "from a thriller set in the castle cellars."
)
WALL = "The old firewall stands beside the castle; our guide said: castle, castle, castle."


def test_each_hit_gets_the_phrases_that_set_its_page_apart() -> None:
    """A name said once, far from what matched, is no exclusion across hits (said once on one
    page is chance) but is offered for its own hit; a phrase one relevant hit holds too is
    offered there with that loss, never in the list."""
    relevant = [*CENSORSHIP, "The firewall even blocked the castle museum's website."]
    labelled = _labelled(relevant, [*PRODUCTS, CASTLE, WALL])
    castle, wall = labelled[-2].key, labelled[-1].key
    found = suggest(_profile("firewall"), labelled)
    listed = {s.phrase for s in _exclusions(found.items)}
    assert "ghostnet" not in listed and "castle" not in listed
    by_hit = {advice.key: advice for advice in found.by_hit}
    own = {s.phrase: s for s in by_hit[castle].items}
    assert own["ghostnet"].false_positives == (castle,) and own["ghostnet"].relevant_lost == ()
    # "castle" would lose the museum story: offered for the page that repeats it, last
    last = by_hit[wall].items[-1]
    assert (last.phrase, last.relevant_lost) == ("castle", (labelled[len(CENSORSHIP)].key,))
    for advice in (by_hit[castle], by_hit[wall]):
        losses = [len(s.relevant_lost) for s in advice.items]
        assert losses == sorted(losses)  # those losing nothing first
        text = labelled[advice.key - 1].text
        for item in advice.items:  # each removes its hit when taken into the query
            assert not _matches(item.query, text), item.fragment
            assert all(_matches(item.query, t) for t in CENSORSHIP), item.fragment
    # the product pages get their own too, each removing its page
    for text in PRODUCTS:
        key = next(t.key for t in labelled if t.text == text)
        assert all(key in s.false_positives for s in by_hit[key].items)


def test_an_exclusion_the_whole_query_can_take_when_it_is_an_or() -> None:
    """An OR at the top is put in parentheses, so the exclusion applies to every part."""
    query = "firewall OR censorship"
    found = suggest(_profile(query), _labelled(CENSORSHIP, PRODUCTS))
    best = _exclusions(found.items)[0]
    assert best.query.startswith(f"({query})\nAND NOT ")
    assert not any(_matches(best.query, text) for text in PRODUCTS)


def test_hits_the_profile_no_longer_matches_are_counted_not_advised_on() -> None:
    labelled = [*_labelled(CENSORSHIP, PRODUCTS), Labelled(99, "", "A wall of fire.", "en", False)]
    found = suggest(_profile("firewall"), labelled)
    assert found.unmatched == (99,)
    assert all(99 not in s.false_positives for s in found.items)


def test_chinese_exclusions_are_phrases_the_matcher_finds_as_written() -> None:
    relevant = [
        "中国的防火墙屏蔽了谷歌和维基百科，网民只能翻墙。",
        "当局升级防火墙，更多境外新闻网站无法访问。",
        "防火墙封锁了Telegram，用户转向其他软件。",
    ]
    wrong = [
        "这款下一代防火墙产品支持应用识别，适合企业网络。",
        "厂商发布下一代防火墙产品，吞吐量提升一倍。",
    ]
    labelled = _labelled(relevant, wrong)
    found = suggest(_profile("防火墙"), labelled)
    best = _exclusions(found.items)[0]
    assert best.false_positives == (4, 5) and best.relevant_lost == ()
    assert best.phrase != "防火墙" and not any(best.phrase in t for t in relevant)
    assert not any(_matches(best.query, t) for t in wrong)
    assert all(_matches(best.query, t) for t in relevant)


def test_candidate_phrases_leave_out_stopwords_numbers_and_the_profiles_terms() -> None:
    own = own_terms(parse_query('firewall OR "great firewall" OR censor*'))
    text = FoldedField.of("In 2024 the Great Firewall of China censored the web.")
    found = phrases(text, [], own)
    assert "2024" not in found and "the" not in found and "in 2024" not in found
    assert "great firewall" not in found and "great" not in found  # part of a term
    assert "censored" not in found  # censor* covers it
    assert "web" in found and "firewall of china" in found


def test_additions_come_from_what_the_missed_articles_share() -> None:
    labelled = _labelled(CENSORSHIP, PRODUCTS)
    missed = [
        Missed(1, "", "The Golden Shield project watches what users read online.", "en"),
        Missed(2, "", "Engineers of the Golden Shield added new filters for news sites.", "en"),
        Missed(3, "", "A firewall blocks Google in China.", "en"),  # matched already
    ]
    found = suggest(_profile("firewall"), labelled, missed)
    additions = [s for s in found.items if s.kind == "add"]
    assert additions, [s.fragment for s in found.items]
    best = additions[0]
    assert best.phrase == "golden shield" and best.fragment == 'OR "golden shield"'
    assert best.missed == (1, 2) and best.query == 'firewall\nOR "golden shield"'
    assert all(_matches(best.query, m.text) for m in missed)
    assert not _matches(best.query, "The golden retriever guards the shield wall.")


# --- the API over a real database --------------------------------------------------------

FEED = "https://news.example/rss"
PROFILE = """description: Firewalls, as the censors build them.
query: firewall
"""


def _store(engine: Engine, n: int, text: str, matcher: Matcher) -> int:
    url = f"https://news.example/{n}"
    stored = articles.store_article(
        engine,
        feed_id=feeds.feed_rows(engine)[FEED].id or 0,
        entry=Entry(f"g{n}", url, "", "", NOW - timedelta(days=1)),
        article=Article(url, "", text, language="en"),
        matches=matcher.match(Doc("", text, url, "Example", "en")),
        routes={},
        now=NOW - timedelta(hours=n),
    )
    hits = [h for h in hits_of_article(engine, stored.article_id) if h.profile == "firewalls"]
    assert len(hits) == 1, text
    return hits[0].id


@pytest.fixture
def judged(engine: Engine, config_dir: Path) -> tuple[Engine, dict[str, int]]:
    """The hits of a profile `firewalls` on the censorship stories (judged relevant) and the
    product pages (judged not relevant), and one article readers say it missed."""
    (config_dir / "profiles" / "firewalls.yaml").write_text(PROFILE, encoding="utf-8")
    matcher = Matcher(p for p in load_profiles(config_dir) if p.name == "firewalls")
    feeds.sync_feeds(engine, [FeedSpec(FEED, name="Example")], NOW)
    ids: dict[str, int] = {}
    for n, text in enumerate([*CENSORSHIP, *PRODUCTS], start=1):
        hit_id = _store(engine, n, text, matcher)
        ids[text] = hit_id
        give_feedback(engine, hit_id, text in CENSORSHIP, "", "reader", NOW)
    add_missed(
        engine,
        "firewalls",
        url="https://news.example/missed",
        title="Golden Shield",
        text="The Golden Shield project watches what users read online.",
        language="en",
        note="",
        by="reader",
        at=NOW,
    )
    return engine, ids


@pytest.fixture
def api(judged: tuple[Engine, dict[str, int]], config_dir: Path) -> Iterator[Served]:
    yield from _serve(judged[0], config_dir, None)


def test_the_api_gives_precision_and_checked_suggestions(
    api: Served, judged: tuple[Engine, dict[str, int]]
) -> None:
    _, ids = judged
    status, _, body = api.get("/api/v1/profiles/firewalls/suggestions?since=2026-01-01")
    assert status == 200, body
    assert body["profile"] == "firewalls"
    assert body["feedback"] == {
        "relevant": 4,
        "not_relevant": 3,
        "precision": round(4 / 7, 4),
        "unmatched": [],
    }
    items = body["suggestions"]
    best = next(item for item in items if item["kind"] == "exclude")
    assert "next-generation" in best["phrase"]
    assert best["false_positives"] == sorted(ids[t] for t in PRODUCTS)
    assert best["relevant_lost"] == []
    assert best["query"] == f"firewall\n{best['fragment']}"
    # the backtest over the stored articles removes those three hits and adds nothing
    assert best["backtest"]["removed"] == 3 and best["backtest"]["added"] == 0
    assert best["backtest"]["since"].startswith("2026-01-01")
    addition = next(item for item in items if item["kind"] == "add")
    assert addition["fragment"] == 'OR "golden shield"' and len(addition["missed"]) == 1
    # each hit judged not relevant, with the exclusions of its own (not backtested)
    assert {hit["hit"] for hit in body["by_hit"]} == {ids[t] for t in PRODUCTS}
    for hit in body["by_hit"]:
        assert hit["suggestions"] and all(s["backtest"] is None for s in hit["suggestions"])
        assert all(hit["hit"] in s["false_positives"] for s in hit["suggestions"])


def test_the_api_without_backtest_and_for_an_unknown_profile(api: Served) -> None:
    status, _, body = api.get("/api/v1/profiles/firewalls/suggestions?backtest=false&limit=1")
    assert status == 200
    kinds = [item["kind"] for item in body["suggestions"]]
    assert kinds == ["exclude", "add"]  # one of each kind
    assert all(item["backtest"] is None for item in body["suggestions"])
    status, _, body = api.get("/api/v1/profiles/nowhere/suggestions")
    assert status == 404 and "nowhere" in str(body)
