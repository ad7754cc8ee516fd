"""Search: the index proposes, the matcher decides, so a search finds exactly what a profile
with the same query matches, in every script, on SQLite and PostgreSQL.

Articles are stored the way the pipeline stores them (store_article); the reference answer is
the matcher run over every stored article by brute force.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import feedparser
import pytest
from sqlalchemy import Engine, text

from monitor.archive.backtest import backtest
from monitor.archive.search import compile_query, search, search_profile
from monitor.models import Article, Entry, FeedSpec
from monitor.profiles.candidates import AllOf, AnyOf, Literal, index_text, narrowed, needed
from monitor.profiles.files import load_profiles
from monitor.profiles.matcher import Matcher, folded_fields
from monitor.profiles.profile import Doc
from monitor.store import articles, feeds
from monitor.store import search as search_index
from monitor.store.engine import open_engine, upgrade
from monitor.store.search import ArticleFilter, candidates, indexed_text, searchable, usable
from tests.test_cli import monitor
from tests.test_web_api import Served, _serve

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parent.parent
RELEVANCE = REPO.parent / "shared" / "corpus" / "relevance"

# (language, title, text): written for these tests; Simplified, Traditional, English, Russian
TEXTS = [
    (
        "zh",
        "国家网信办发布新规",
        "国家互联网信息办公室今天发布网络安全审查办法。网信部门将加强监管。",
    ),
    ("zh-Hant", "網信辦再發新規", "國家網信辦表示，將持續打擊翻牆軟體。防火長城再升級。"),
    ("zh", "翻墙工具遭封锁", "多款翻墙软件在国内无法访问，用户改用其他方式。"),
    ("zh", "乌镇旅游攻略", "乌镇是江南水乡古镇，游客可以乘船游览。"),
    ("zh", "世界互联网大会在乌镇开幕", "第十届世界互联网大会乌镇峰会开幕，网络主权成为焦点。"),
    (
        "en",
        "Great Firewall tightened ahead of congress",
        "China's Great Firewall blocked more VPN services this week, users said.",
    ),
    (
        "en",
        "World Internet Conference opens in Wuzhen",
        "The World Internet Conference opened in Wuzhen with calls for cyber sovereignty.",
    ),
    ("en", "Local bakery wins bread award", "A bakery in the valley won a regional prize."),
    ("en", "Firewall appliance review", "This next-generation firewall appliance filters traffic."),
    (
        "en",
        "Cyberspace Administration of China drafts rules",
        "The Cyberspace Administration of China published draft rules on algorithms.",
    ),
    ("ru", "Великий китайский файрвол", "Власти Китая усилили блокировку VPN-сервисов."),
    ("ru", "Всемирная конференция по интернету", "В Учжэне открылась Всемирная конференция."),
    ("en", "AI rules", "New AI rules were published by the regulator."),
]


def _store(engine: Engine, texts: list[tuple[str, str, str]], start: int = 0) -> list[int]:
    feed_id = feeds.feed_rows(engine)["https://news.example/rss"].id or 0
    ids = []
    for n, (language, title, body) in enumerate(texts, start):
        url = f"https://news.example/{n}"
        stored = articles.store_article(
            engine,
            feed_id=feed_id,
            entry=Entry(f"g{n}", url, title, "", NOW - timedelta(hours=n)),
            article=Article(
                url, title, body, language=language, published_at=NOW - timedelta(hours=n)
            ),
            matches=[],
            routes={},
            now=NOW,
        )
        ids.append(stored.article_id)
    return ids


@pytest.fixture
def archive(engine: Engine) -> Engine:
    feeds.sync_feeds(engine, [FeedSpec("https://news.example/rss", name="Example")], NOW)
    _store(engine, TEXTS)
    return engine


def _brute_force(engine: Engine, query: str, config_dir: Path | None = None) -> list[int]:
    """Every stored article the matcher accepts for `query`, newest stored first."""
    concepts = _concepts(config_dir)
    matcher = Matcher([search_profile(compile_query(query, concepts))])
    found = []
    for c in candidates(engine, None, ArticleFilter(), limit=100_000):
        if matcher.match(Doc(c.title, c.text, c.url, c.source, c.language)):
            found.append(c.id)
    return found


def _concepts(config_dir: Path | None) -> dict[str, tuple[str, ...]]:
    if config_dir is None:
        return {}
    from monitor.profiles.concepts import load_concepts

    return load_concepts(config_dir)


def _search_ids(engine: Engine, query: str, config_dir: Path | None = None) -> list[int]:
    page = search(engine, compile_query(query, _concepts(config_dir)), ArticleFilter(), limit=1000)
    return [found.article_id for found in page.items]


# ---- what the index is asked (pure) -------------------------------------------------------


def test_a_query_needs_what_every_match_contains() -> None:
    need = needed(compile_query('("great firewall" OR 防火长城) AND NOT review'))
    assert need == AnyOf((Literal("great firewall"), Literal("防火长城")))
    assert needed(compile_query("網信辦 NEAR/5 新规")) == AllOf(
        (Literal("网信办"), Literal("新规"))
    )
    assert needed(compile_query("lang:zh")) is None  # metadata: the index cannot help
    assert needed(compile_query("/fire.?wall/")) is None


def test_short_literals_widen_the_formula_they_are_in() -> None:
    need = needed(compile_query("AI AND regulator"))
    assert narrowed(need, lambda t: len(t) >= 3) == Literal("regulator")  # AND drops it
    assert narrowed(needed(compile_query("AI OR regulator")), lambda t: len(t) >= 3) is None
    # the index doubles CJK characters: two Chinese characters are enough, one is not
    assert searchable("网信") and not searchable("墙") and not searchable("ai")
    assert usable(needed(compile_query("翻墙"))) == Literal("翻墙")


def _keys(literal: Literal) -> frozenset[int]:
    terms = search_index._terms(literal)
    assert terms is not None and len(terms) == 1
    return terms[0]


def test_postgresql_looks_an_and_up_as_one_term_per_way_to_satisfy_it() -> None:
    """An AND of ORs becomes an OR of merged key sets, each one index lookup; past MAX_TERMS
    the AND keeps its narrower parts only (a superset: the matcher decides)."""
    firewall, china, prc = Literal("firewall"), Literal("china"), Literal("prc")
    terms = search_index._terms(AllOf((firewall, AnyOf((china, prc)))))
    assert terms is not None
    assert set(terms) == {_keys(firewall) | _keys(china), _keys(firewall) | _keys(prc)}
    wide = [AnyOf(tuple(Literal(f"{w}{n:02d}") for n in range(10))) for w in ("alpha", "omega")]
    assert search_index.MAX_TERMS < 10 * 10
    relaxed = search_index._terms(AllOf((*wide, firewall)))
    assert relaxed is not None
    alphas = {_keys(literal) for literal in wide[0].parts}  # type: ignore[arg-type]
    assert set(relaxed) == {_keys(firewall) | alpha for alpha in alphas}  # omegas left out


def test_indexed_text_folds_like_the_matcher_and_doubles_cjk() -> None:
    assert indexed_text("網信辦 Rules", "Ｆｉｒｅｗａｌｌ") == "网网信信办办 rules\nfirewall"


# ---- search agrees with the matcher -------------------------------------------------------

QUERIES = [
    '"great firewall"',
    "网信",  # two characters, Simplified; finds the Traditional 網信 too
    "網信辦",
    "翻墙",
    "世界互联网大会",
    "firewall AND NOT appliance",
    "wuzhen OR 乌镇",
    "title:firewall",
    '"cyber sovereignty" OR 网络主权',
    "China NEAR/5 rules",
    "файрвол",
    "墙",  # one character: a scan
    "AI",  # two Latin letters: a scan
    "lang:ru",  # metadata only: a scan
]


@pytest.mark.parametrize("query", QUERIES)
def test_search_finds_what_the_matcher_finds(archive: Engine, query: str) -> None:
    expected = _brute_force(archive, query)
    assert _search_ids(archive, query) == expected
    assert expected  # every query here finds something: an empty answer proves nothing


def test_two_character_chinese_finds_simplified_and_traditional(archive: Engine) -> None:
    page = search(archive, compile_query("网信"), ArticleFilter(), limit=10)
    titles = {found.title for found in page.items}
    assert titles == {"国家网信办发布新规", "網信辦再發新規"}
    assert not page.scan  # the index looked it up
    assert all("**" in found.snippets[0] for found in page.items)  # KWIC with the match marked


def test_a_one_character_term_is_a_scan_and_says_so(archive: Engine) -> None:
    page = search(archive, compile_query("墙"), ArticleFilter(), limit=10)
    assert page.scan and page.complete
    assert {found.title for found in page.items} == {"網信辦再發新規", "翻墙工具遭封锁"}


def test_a_bounded_scan_stops_and_its_cursor_goes_on(archive: Engine) -> None:
    query = compile_query("lang:en")
    first = search(archive, query, ArticleFilter(), limit=50, scan_limit=4)
    assert first.scan and not first.complete and first.examined == 4
    assert first.following is not None
    seen = [f.article_id for f in first.items]
    before: int | None = first.following
    while before is not None:
        page = search(archive, query, ArticleFilter(), limit=50, before=before, scan_limit=4)
        seen += [f.article_id for f in page.items]
        before = page.following
    assert seen == _brute_force(archive, "lang:en")


def test_pages_by_cursor_are_the_whole_answer_once(archive: Engine) -> None:
    query = compile_query("wuzhen OR 乌镇 OR 网信 OR firewall")
    everything = _brute_force(archive, "wuzhen OR 乌镇 OR 网信 OR firewall")
    seen: list[int] = []
    before = None
    while True:
        page = search(archive, query, ArticleFilter(), limit=2, before=before)
        seen += [f.article_id for f in page.items]
        if page.following is None:
            break
        before = page.following
    assert seen == everything and len(everything) >= 5


def test_filters_narrow_the_search(archive: Engine) -> None:
    query = compile_query("网信 OR firewall OR файрвол")
    by_language = search(archive, query, ArticleFilter(language="zh"), limit=50).items
    assert {f.language for f in by_language} == {"zh", "zh-Hant"}  # zh covers zh-Hant
    recent = search(
        archive, query, ArticleFilter(since=NOW - timedelta(hours=1, minutes=30)), limit=50
    )
    assert [f.title for f in recent.items] == ["網信辦再發新規", "国家网信办发布新规"]
    assert search(archive, query, ArticleFilter(feed="Elsewhere"), limit=50).items == []


def test_the_shipped_profiles_as_searches_agree_with_the_matcher(
    archive: Engine, config_dir: Path
) -> None:
    for profile in load_profiles(config_dir):
        expected = _brute_force(archive, profile.query_text, config_dir)
        assert _search_ids(archive, profile.query_text, config_dir) == expected, profile.name


def test_postgresql_answers_every_shipped_profile_from_the_index(
    postgres_url: str, config_dir: Path
) -> None:
    """The plan, not only the answer: each term is a scan of the GIN index and no row's keys
    are tested one by one (a sequential scan, or a filter on the index table, rereads every
    row's TOASTed keys: 43 s instead of 1 at 100,000 articles)."""
    engine = open_engine(postgres_url)
    upgrade(engine)
    feeds.sync_feeds(engine, [FeedSpec("https://news.example/rss", name="Example")], NOW)
    _store(engine, TEXTS)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    for profile in load_profiles(config_dir):
        need = usable(needed(profile.query))
        assert need is not None, profile.name
        query = search_index._selected(ArticleFilter(), "postgresql", need)
        sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
        with engine.connect() as conn:
            search_index.use_index(conn)
            plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql))
        scan = plan[plan.index("CTE found") :].split("->  ")[1]  # the node reading the index
        assert scan.startswith("Bitmap Heap Scan on article_search"), (profile.name, plan)
        assert "Filter" not in scan, (profile.name, plan)
        assert "Bitmap Index Scan on ix_article_search_grams" in plan, profile.name
    engine.dispose()


@pytest.mark.slow
@pytest.mark.skipif(not RELEVANCE.is_dir(), reason=f"no relevance corpus at {RELEVANCE}")
def test_search_agrees_on_the_real_corpus(engine: Engine, config_dir: Path) -> None:
    feeds.sync_feeds(engine, [FeedSpec("https://news.example/rss", name="Example")], NOW)
    texts = []
    for path in sorted(RELEVANCE.glob("*.txt")):
        body = path.read_text(encoding="utf-8", errors="replace")
        title, _, rest = body.partition("\n")
        texts.append(("", title, rest))
    _store(engine, texts)
    queries = [p.query_text for p in load_profiles(config_dir)] + QUERIES
    for query in queries:
        assert _search_ids(engine, query, config_dir) == _brute_force(engine, query, config_dir), (
            query
        )


# ---- the index is kept ---------------------------------------------------------------------


def _old_article(engine: Engine, n: int, title: str) -> None:
    """An article written straight into the tables, as a database of an older revision has it."""
    with engine.begin() as conn:
        if n == 1:
            conn.execute(
                text("INSERT INTO feed (url, enabled, created_at, status, consecutive_failures, "
                     "successful_polls) "
                     "VALUES ('https://old.example/rss', true, :now, 'ok', 0, 0)"),
                {"now": NOW},
            )  # fmt: skip
        conn.execute(
            text("INSERT INTO article (url, link, feed_id, title, text, source, fetched_at) "
                 "VALUES (:url, :url, (SELECT min(id) FROM feed), :title, "
                 "'Stored before this revision', 'page', :now)"),
            {"url": f"https://old.example/{n}", "title": title, "now": NOW},
        )  # fmt: skip


def test_the_migrations_index_articles_stored_before_them(database_url: str) -> None:
    """Articles stored at 0007 (no index) and at 0008 (PostgreSQL: folded texts, which 0009
    turns into trigram keys) are found after the upgrade, on both databases."""
    from alembic import command

    from monitor.store.engine import alembic_config

    engine = open_engine(database_url)
    command.upgrade(alembic_config(engine), "0007")
    _old_article(engine, 1, "舊聞：網信辦")
    command.upgrade(alembic_config(engine), "0008")
    with engine.begin() as conn:
        _old_article(engine, 2, "Great Firewall, stored at 0008")
        column = "article_id" if engine.dialect.name == "postgresql" else "rowid"
        conn.execute(
            text(f"INSERT INTO article_search ({column}, body) VALUES (2, :body)"),
            {"body": indexed_text("Great Firewall, stored at 0008", "Stored before this revision")},
        )
    upgrade(engine)
    page = search(engine, compile_query("网信办"), ArticleFilter(), limit=5)
    assert [f.title for f in page.items] == ["舊聞：網信辦"] and not page.scan
    page = search(engine, compile_query('"great firewall"'), ArticleFilter(), limit=5)
    assert [f.title for f in page.items] == ["Great Firewall, stored at 0008"]
    engine.dispose()


def test_a_pruned_article_is_no_longer_found(archive: Engine) -> None:
    from monitor.store.retention import prune

    assert _search_ids(archive, "网信")
    prune(archive, NOW + timedelta(days=400), timedelta(days=30))
    assert _search_ids(archive, "网信") == []
    assert _search_ids(archive, "墙") == []


# ---- monitor search and /api/v1/search ----------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, config_dir: Path) -> Iterator[Path]:
    url = f"sqlite:///{tmp_path / 'data' / 'monitor.db'}"
    (config_dir / "monitor.yaml").write_text(f"database_url: {url}\n", encoding="utf-8")
    engine = open_engine(url)
    upgrade(engine)
    feeds.sync_feeds(engine, [FeedSpec("https://news.example/rss", name="Example")], NOW)
    _store(engine, TEXTS)
    engine.dispose()
    yield config_dir


def test_monitor_search_prints_json_csv_and_a_table(project: Path, tmp_path: Path) -> None:
    done = monitor("--config", str(project), "search", "网信", "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    items = json.loads(done.stdout)
    assert [i["title"] for i in items] == ["網信辦再發新規", "国家网信办发布新规"]
    assert set(items[0]) >= {
        "article_id",
        "url",
        "title",
        "feed",
        "published_at",
        "language",
        "snippets",
    }
    done = monitor("--config", str(project), "search", "firewall", "--format", "csv", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.splitlines()[0].startswith('"article_id","url"')
    done = monitor("--config", str(project), "search", "墙", "--limit", "5", cwd=tmp_path)
    assert done.returncode == 0 and "a scan" in done.stdout and "翻墙工具遭封锁" in done.stdout


def test_monitor_search_points_at_a_query_mistake(project: Path, tmp_path: Path) -> None:
    done = monitor("--config", str(project), "search", "firewall AND (", cwd=tmp_path)
    assert done.returncode == 2
    assert "QUERY" in done.stderr and "^" in done.stderr


# ---- over HTTP: /api/v1/search and `q` on the hit lists -----------------------------------


@pytest.fixture
def hits_archive(archive: Engine, config_dir: Path) -> Engine:
    """The texts again as hits of the shipped profiles, stored the way the pipeline does."""
    matcher = Matcher(load_profiles(config_dir))
    feed_id = feeds.feed_rows(archive)["https://news.example/rss"].id or 0
    for n, (language, title, body) in enumerate(TEXTS):
        url = f"https://news.example/{n}"
        matches = matcher.match(Doc(title, body, url, "Example", language))
        articles.store_article(
            archive,
            feed_id=feed_id,
            entry=Entry(f"g{n}", url, title, "", NOW - timedelta(hours=n)),
            article=Article(url, title, body, language=language),
            matches=matches,
            routes={},
            now=NOW + timedelta(minutes=n),
        )
    return archive


@pytest.fixture
def web(hits_archive: Engine, config_dir: Path) -> Iterator[Served]:
    yield from _serve(hits_archive, config_dir, None)


def test_the_search_api_pages_through_what_the_matcher_finds(
    web: Served, hits_archive: Engine
) -> None:
    expected = _brute_force(hits_archive, "网信 OR firewall OR 乌镇")
    seen: list[int] = []
    path = "/api/v1/search?" + urlencode({"q": "网信 OR firewall OR 乌镇", "limit": 2})
    while True:
        status, _, body = web.get(path)
        assert status == 200 and body["scan"] is False and body["complete"] is True
        seen += [item["article_id"] for item in body["items"]]
        if body["next_cursor"] is None:
            break
        path = "/api/v1/search?" + urlencode(
            {"q": "网信 OR firewall OR 乌镇", "limit": 2, "cursor": body["next_cursor"]}
        )
    assert seen == expected and len(expected) >= 5
    _, _, one = web.get("/api/v1/search?" + urlencode({"q": "網信", "language": "zh-Hant"}))
    item = one["items"][0]
    assert set(item) >= {"article_id", "url", "title", "feed", "published_at", "language"}
    assert item["title"] == "網信辦再發新規" and "**網信**" in item["snippets"][0]


def test_a_bad_query_is_a_400_that_says_where(web: Served) -> None:
    status, _, body = web.get("/api/v1/search?" + urlencode({"q": "firewall AND ("}))
    assert status == 400 and body["error"]["line"] == 1 and body["error"]["column"] >= 14
    status, _, body = web.get("/api/v1/hits?" + urlencode({"q": '"unclosed'}))
    assert status == 400 and body["error"]["message"].startswith("q: ")
    status, _, body = web.get("/api/v1/search?" + urlencode({"q": "  "}))
    assert status == 400


def test_q_narrows_hits_their_csv_and_the_atom_feed(web: Served) -> None:
    _, _, everything = web.get("/api/v1/hits?limit=100")
    _, _, narrowed = web.get("/api/v1/hits?" + urlencode({"q": "网信"}))
    titles = [item["title"] for item in narrowed["items"]]
    assert titles and set(titles) <= {"国家网信办发布新规", "網信辦再發新規"}
    assert len(everything["items"]) > len(narrowed["items"])
    _, _, csv_text = web.text("/api/v1/hits.csv?" + urlencode({"q": "网信"}))
    assert len(csv_text.strip().splitlines()) == len(titles) + 1
    status, _, atom = web.text("/feeds/hits.atom?" + urlencode({"q": "wuzhen OR 乌镇"}))
    parsed = feedparser.parse(atom)
    assert status == 200 and not parsed.bozo and parsed.entries
    assert all("wuzhen" in e.title.lower() or "乌镇" in e.title for e in parsed.entries)
    assert "q=" in parsed.feed.id  # a search is a feed of its own


# ---- backtests use the same candidates ------------------------------------------------------


def test_a_backtest_matches_the_candidates_in_processes_as_it_would_alone(
    hits_archive: Engine, config_dir: Path
) -> None:
    """Hits were stored by the shipped profiles; a backtest of each finds them all again,
    whether its candidates are matched here or in two worker processes."""
    for profile in load_profiles(config_dir):
        alone = backtest(hits_archive, profile, None, workers=1)
        shared = backtest(hits_archive, profile, None, workers=2, parallel_from=1, chunk=2)
        assert (alone.kept, alone.added, alone.removed) == (
            shared.kept,
            shared.added,
            shared.removed,
        )
        assert alone.added == [] and alone.removed == []
        matcher = Matcher([profile])  # the profile's own min_score, not only its query
        every = candidates(hits_archive, None, ArticleFilter(), limit=100_000)
        wanted = [
            c for c in every if matcher.match(Doc(c.title, c.text, c.url, c.source, c.language))
        ]
        assert alone.kept == len(wanted), profile.name
        assert alone.candidates <= alone.articles and not alone.scan


def test_the_pipeline_indexes_the_folding_the_matcher_did() -> None:
    """The pipeline hands the matcher's folded fields to the store (Article.search_text)
    instead of folding twice: they must be what the store would have indexed itself."""
    samples = [(title, text) for _, title, text in TEXTS] + [
        ("互聯(lián)網(wǎng)", "Ｆｉｒｅｗａｌｌ\u200b  防火 长城 ‑ Welt‑Internet ёлка"),
        ("", ""),
    ]
    for title, body in samples:
        fields = folded_fields(Doc(title, body))
        reused = index_text(fields["title"].folded, fields["text"].folded)
        assert reused == indexed_text(title, body), title
