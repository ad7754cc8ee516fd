"""`monitor profiles derive`: a draft profile from a document (monitor.profiles.derive), on
texts written for these tests (English and Chinese) and on the seed article of ../shared when
it is there; the YAML through the real loader; the command on a file, a URL and a database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from monitor.models import Article, Entry, FeedSpec
from monitor.profiles.concepts import load_concepts
from monitor.profiles.derive import derive, profile_name
from monitor.profiles.draft import Draft
from monitor.profiles.files import load_profile
from monitor.profiles.keyphrases import YAKE_LANGUAGES, key_phrases
from monitor.profiles.matcher import Matcher
from monitor.profiles.profile import Doc
from monitor.store import articles, feeds
from monitor.store.engine import open_engine, upgrade
from tests.conftest import REPO
from tests.loopback import LoopbackServer, QuietHandler, serving
from tests.test_cli import monitor

SEED = REPO.parent / "shared" / "seed" / "world-internet-conference-2014.txt"
CONCEPTS = load_concepts(REPO / "config")

# Written for these tests: the regulator's draft rules announced at the Wuzhen conference.
EN_TITLE = "Cyberspace regulator unveils draft rules at Wuzhen summit"
EN_TEXT = """\
The Cyberspace Administration of China published draft rules on Tuesday that would require \
recommendation algorithms to be registered with the regulator, officials said at the World \
Internet Conference in Wuzhen. The draft rules give platforms six months to file their \
algorithm registration documents.
Zhuang Rongwen, director of the Cyberspace Administration of China, told delegates that \
algorithm registration would make platforms accountable for what their recommendation \
algorithms promote. Foreign companies attending the Wuzhen Summit asked how algorithm \
registration would treat source code.
Analysts at the Mercator Institute for China Studies said the draft rules extend the \
regulator's reach over recommendation algorithms. The Cyberspace Administration of China will \
take comments on the draft rules until the end of the month.
"""
ZH_TITLE = "网信办在乌镇峰会上发布算法备案新规"
ZH_TEXT = (
    "国家互联网信息办公室22日在第十届世界互联网大会上发布《算法推荐备案管理规定（征求意见稿）》。"
    "征求意见稿要求提供算法推荐服务的平台在六个月内完成算法备案。"
    "国家互联网信息办公室副主任牛一兵在乌镇表示，算法备案将使平台对推荐结果承担更多责任。"
    "参加大会的外国企业代表询问，算法备案是否需要提交源代码。"
    "清华大学的研究人员认为，新规扩大了监管部门对算法推荐的管理范围。"
    "网信办将在本月底前继续征求公众意见。"
)


def _matches_itself(draft: Draft, title: str, text: str) -> bool:
    """A draft that does not match the document it came from is no starting point."""
    return bool(Matcher([draft.profile()]).match(Doc(title, text)))


def _in_query(draft: Draft) -> list[str]:
    return [p.text for p in draft.phrases if not p.why_not]


def test_an_english_draft_names_the_regulator_and_the_conference() -> None:
    draft = derive(EN_TITLE, EN_TEXT, "en", CONCEPTS, name="algorithm_rules")
    named = {c.name: c for c in draft.concepts}
    assert not named["CAC"].broad and not named["WIC"].broad  # alternatives of the query
    assert named["China"].broad  # the context it is ANDed with
    assert named["CAC"].count == 3
    assert "@CAC" in draft.query and "@WIC" in draft.query
    assert "AND (" in draft.query and "@China" in draft.query.split("AND")[-1]
    assert {"draft rules", "algorithm registration"} <= set(_in_query(draft))
    # a concept's own name is not repeated as a phrase, nor one of its pieces
    left_out = {p.text: p.why_not for p in draft.phrases if p.why_not}
    assert left_out["World Internet Conference"] == "@WIC holds it"
    assert "Cyberspace Administration" not in _in_query(draft)
    assert [o.text for o in draft.organisations if o.text.startswith("Mercator")] == [
        "Mercator Institute for China Studies"
    ]
    assert [p.text for p in draft.people] == ["Zhuang Rongwen"]  # ", director of …"
    assert _matches_itself(draft, EN_TITLE, EN_TEXT)
    assert not _matches_itself(draft, "Bakery wins award", "The bakery in Wuzhen won a prize.")


def test_a_chinese_draft_is_made_of_words_not_characters() -> None:
    draft = derive(ZH_TITLE, ZH_TEXT, "zh", CONCEPTS, name="suanfa")
    assert draft.phrases and all(len(p.text) >= 2 for p in draft.phrases)
    assert {c.name for c in draft.concepts if not c.broad} == {"CAC", "WIC"}
    assert "算法备案" in _in_query(draft)
    # 算法 alone would be every text on algorithms: the longer phrase stands for it
    assert next(p for p in draft.phrases if p.text == "算法").why_not.startswith("broader than")
    assert "国家互联网信息办公室" in {o.text for o in draft.organisations}
    assert [p.text for p in draft.people] == ["牛一兵"]
    assert _matches_itself(draft, ZH_TITLE, ZH_TEXT)


def test_key_phrases_rank_and_cover_every_language_yake_is_given() -> None:
    phrases = key_phrases(EN_TITLE, EN_TEXT, "en")
    assert phrases[0].score == 1.0 and all(0 < p.score <= 1 for p in phrases)
    assert "draft rules" in [p.text for p in phrases]
    for code in sorted(YAKE_LANGUAGES):  # yake-rust stops the process on a language it lacks
        assert isinstance(key_phrases("", "Wuzhen hosts the summit again.", code), list)
    assert key_phrases("", "Wuzhen hosts the summit again.", "ko")  # no stop words: statistics
    assert key_phrases("", "", "en") == []


@pytest.mark.parametrize(
    ("title", "text", "language"), [(EN_TITLE, EN_TEXT, "en"), (ZH_TITLE, ZH_TEXT, "zh")]
)
def test_the_profile_file_loads_through_the_real_loader(
    tmp_path: Path, title: str, text: str, language: str
) -> None:
    draft = derive(title, text, language, CONCEPTS, name="drafted", source="story.txt")
    path = tmp_path / "drafted.yaml"
    path.write_text(draft.yaml(), encoding="utf-8")
    profile = load_profile(path, CONCEPTS)
    assert profile.query_text.strip() == draft.query
    assert profile.tags == ("draft",) and profile.description.startswith("Draft from: ")
    assert draft.yaml().startswith("# A DRAFT derived by `monitor profiles derive`")
    assert Matcher([profile]).match(Doc(title, text))


def test_a_strangers_headline_cannot_break_the_file(tmp_path: Path) -> None:
    title = 'Wuzhen: "rules" # not a comment\n\u2028key: value\x1b[31m \u202e \\ end'
    draft = derive(title, EN_TEXT, "en", CONCEPTS, source="http://x.example/a?b=1#c\nd: e")
    path = tmp_path / "hostile.yaml"
    path.write_text(draft.yaml(), encoding="utf-8")
    profile = load_profile(path, CONCEPTS)
    assert profile.description.startswith('Draft from: Wuzhen: "rules" # not a comment')
    assert "\x1b" not in draft.yaml() and "\u202e" not in draft.yaml()


def test_nothing_to_derive_from_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="no text"):
        derive("", "  \n ", "en", CONCEPTS)
    with pytest.raises(ValueError, match="nothing to derive a query from"):
        derive("", "a b c", "en", {})


def test_profile_names_are_file_names() -> None:
    assert profile_name("world-internet-conference-2014") == "world_internet_conference_2014"
    assert profile_name("网信办") == "draft"
    assert len(profile_name("x" * 200)) == 48


def test_chinese_segmentation_is_silent_lazy_and_writes_no_file(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "import monitor.profiles.derive as d\n"
        "from monitor.profiles.concepts import load_concepts\n"
        "from pathlib import Path\n"
        "assert 'jieba' not in sys.modules and 'yake_rust' not in sys.modules\n"
        f"draft = d.derive({ZH_TITLE!r}, {ZH_TEXT!r}, 'zh', load_concepts(Path('config')))\n"
        "assert 'jieba' in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        cwd=REPO,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""  # jieba's "Building prefix dict …" too
    assert list(tmp_path.iterdir()) == []  # no jieba.cache in the temporary folder


@pytest.mark.skipif(not SEED.exists(), reason="../shared/seed is not beside this clone")
def test_the_seed_article_gives_the_conference_regulator_and_firewall() -> None:
    text = SEED.read_text(encoding="utf-8")
    draft = derive("", text, "en", CONCEPTS, name="seed")
    named = {c.name for c in draft.concepts if not c.broad}
    assert {"WIC", "CAC", "GFW"} <= named
    assert {c.name for c in draft.concepts if c.broad} == {"China", "Internet"}
    assert "internet security" in _in_query(draft)
    assert {"Lu Wei", "Xi Jinping"} <= {p.text for p in draft.people}
    assert not any(p.text in ("MOSCOW", "Sputnik") for p in draft.phrases)  # the dateline
    assert _matches_itself(draft, "", text)


# --- the command -------------------------------------------------------------------------


class _Page(QuietHandler):
    def do_GET(self) -> None:
        if self.path != "/stories/wuzhen-rules.html":
            self.send_error(404)
            return
        paragraphs = "".join(f"<p>{p}</p>" for p in EN_TEXT.splitlines())
        body = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{EN_TITLE}</title></head><body><article><h1>{EN_TITLE}</h1>"
            f"{paragraphs}</article></body></html>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.slow
def test_the_yaml_it_prints_is_a_profile_validate_accepts(tmp_path: Path, config_dir: Path) -> None:
    story = tmp_path / "algorithm-rules.txt"
    story.write_text(ZH_TEXT, encoding="utf-8")
    cfg = ("--config", str(config_dir), "profiles")
    made = monitor(
        *cfg, "derive", str(story), "--title", ZH_TITLE, "--format", "yaml", cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    assert made.stderr == ""  # jieba says nothing
    (config_dir / "profiles" / "algorithm_rules.yaml").write_text(made.stdout, encoding="utf-8")
    valid = monitor(*cfg, "validate", cwd=tmp_path)
    assert valid.returncode == 0, valid.stderr
    assert "6 profile(s)" in valid.stdout
    tested = monitor(*cfg, "test", "algorithm_rules", "--file", str(story), cwd=tmp_path)
    assert tested.returncode == 0 and "algorithm_rules matches" in tested.stdout


@pytest.mark.slow
def test_a_url_is_fetched_and_extracted(tmp_path: Path, config_dir: Path) -> None:
    with serving(LoopbackServer(_Page)) as server:
        url = f"{server.base}/stories/wuzhen-rules.html"
        done = monitor(
            "--config", str(config_dir), "profiles", "derive", url, "--format", "json",
            cwd=tmp_path,
        )  # fmt: skip
        missing = monitor(
            "--config", str(config_dir), "profiles", "derive", f"{server.base}/gone",
            cwd=tmp_path,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["name"] == "wuzhen_rules" and record["language"] == "en"
    assert record["title"] == EN_TITLE
    assert {"CAC", "WIC"} <= {c["name"] for c in record["concepts"] if not c["broad"]}
    assert record["backtest"] == {"skipped": record["backtest"]["skipped"]}
    assert "no database at" in record["backtest"]["skipped"]
    assert missing.returncode == 2 and "404" in missing.stderr
    assert "Traceback" not in missing.stderr


@pytest.mark.slow
def test_a_missing_file_or_a_bad_name_is_a_usage_error(tmp_path: Path, config_dir: Path) -> None:
    cfg = ("--config", str(config_dir), "profiles", "derive")
    gone = monitor(*cfg, str(tmp_path / "nowhere.txt"), cwd=tmp_path)
    assert gone.returncode == 2
    assert f"{tmp_path / 'nowhere.txt'}: No such file or directory" in gone.stderr
    assert "Traceback" not in gone.stderr
    story = tmp_path / "story.txt"
    story.write_text(EN_TEXT, encoding="utf-8")
    bad = monitor(*cfg, str(story), "--name", "Bad Name", cwd=tmp_path)
    assert bad.returncode == 2 and "--name" in bad.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("\n", encoding="utf-8")
    nothing = monitor(*cfg, str(empty), cwd=tmp_path)
    assert nothing.returncode == 2 and "no text to derive a profile from" in nothing.stderr


def _archive(database: Path) -> Engine:
    """A database with three stored articles: the regulator's rules, the conference, bread."""
    engine = open_engine(f"sqlite:///{database}")
    upgrade(engine)
    now = datetime.now(UTC)
    feeds.sync_feeds(engine, [FeedSpec("https://news.example/rss", name="Example")], now)
    feed_id = feeds.feed_rows(engine)["https://news.example/rss"].id or 0
    stored = [
        ("Regulator's draft rules on algorithms", "The draft rules require algorithm "
         "registration by platforms, the Cyberspace Administration of China said."),
        ("Wuzhen gathering opens", "The World Internet Conference opened in Wuzhen, China."),
        ("Bakery wins award", "A bakery in the valley won a regional bread prize."),
    ]  # fmt: skip
    for n, (title, body) in enumerate(stored):
        url = f"https://news.example/{n}"
        articles.store_article(
            engine,
            feed_id=feed_id,
            entry=Entry(f"g{n}", url, title, "", now - timedelta(hours=n)),
            article=Article(url, title, body, language="en", published_at=now),
            matches=[],
            routes={},
            now=now,
        )
    return engine


@pytest.mark.slow
def test_the_draft_is_backtested_over_the_stored_articles(tmp_path: Path, config_dir: Path) -> None:
    (tmp_path / "data").mkdir()
    _archive(tmp_path / "data" / "monitor.db").dispose()  # where the command looks for it
    story = tmp_path / "story.txt"
    story.write_text(EN_TEXT, encoding="utf-8")
    cfg = ("--config", str(config_dir), "profiles", "derive", str(story), "--title", EN_TITLE)
    report = json.loads(monitor(*cfg, "--format", "json", cwd=tmp_path).stdout)
    assert report["backtest"]["articles"] == 3
    assert report["backtest"]["matched"] == 2
    assert {a["url"] for a in report["backtest"]["added"]} == {
        "https://news.example/0",
        "https://news.example/1",
    }
    text = monitor(*cfg, cwd=tmp_path, env={"COLUMNS": "200"})
    assert text.returncode == 0, text.stderr
    assert "the draft matches 2 of 3 stored article(s)" in text.stdout
    assert "Query:\n  (@CAC OR @WIC OR" in text.stdout
    assert "People named" in text.stdout and "Zhuang Rongwen 1×" in text.stdout
