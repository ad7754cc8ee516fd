"""`monitor profiles …` tells the truth: lowercase operators are warned about, a profile that
does not match says so, `list` is one line per profile with its recent hits, every command's
help has an example."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer.main

from monitor.cli import app
from monitor.models import Article, Entry, FeedSpec, Match
from monitor.profiles.files import load_profile
from monitor.profiles.querysyntax import query_warnings
from monitor.runtime.service import Service
from monitor.store import articles, feeds
from tests.conftest import open_database
from tests.test_cli import monitor

LOWERCASE_OR = "lowercase 'or' is searched as a word; write OR for the operator"


# --- lowercase operators ---------------------------------------------------------------------


def test_lowercase_operators_are_found_with_their_place() -> None:
    warnings = query_warnings('firewall or wall\n  and "rock and roll" OR x near/5 y NOT z')
    assert [(w.line, w.column, w.message) for w in warnings] == [
        (1, 10, LOWERCASE_OR),
        (2, 3, "lowercase 'and' is searched as a word; write AND for the operator"),
        (2, 28, "lowercase 'near/5' is searched as a word; write NEAR/5 for the operator"),
    ]
    assert warnings[0].caret().splitlines() == ["    firewall or wall", "             ^"]
    assert query_warnings('a OR b AND NOT "x or y" NEAR/3 c') == []
    assert query_warnings("a OR") == []  # not a query: parse_query says what is wrong


def test_a_profile_file_carries_its_warnings_with_file_line_and_column(tmp_path: Path) -> None:
    block = tmp_path / "block.yaml"
    block.write_text("description: x\nquery: |\n  firewall\n    or wall\n", encoding="utf-8")
    quoted = tmp_path / "quoted.yaml"
    quoted.write_text("query: 'firewall or wall'\n", encoding="utf-8")

    [warning] = load_profile(block, {}).warnings
    assert warning.startswith(f"{block}:4:5: query: {LOWERCASE_OR}")
    [warning] = load_profile(quoted, {}).warnings
    assert warning.startswith(f"{quoted}:1:18: query: {LOWERCASE_OR}")


@pytest.mark.slow
def test_validate_and_test_warn_about_lowercase_operators_without_failing(
    tmp_path: Path, config_dir: Path
) -> None:
    path = config_dir / "profiles" / "lower.yaml"
    path.write_text("description: x\nquery: |\n  firewall or wall\n", encoding="utf-8")
    cfg = ("--config", str(config_dir), "profiles")

    valid = monitor(*cfg, "validate", cwd=tmp_path)
    assert valid.returncode == 0, valid.stderr
    assert f"warning: {path}:3:12: query: {LOWERCASE_OR}" in valid.stderr
    assert "6 profile(s)" in valid.stdout and "1 warning(s)" in valid.stdout

    tested = monitor(*cfg, "test", "lower", "--text", "a wall", cwd=tmp_path)
    assert tested.returncode == 1  # "firewall AND or AND wall" does not hold
    assert f"{path}:3:12: query: {LOWERCASE_OR}" in tested.stderr
    ad_hoc = monitor(*cfg, "test", "--query", "wall or roof", "--text", "a wall", cwd=tmp_path)
    assert f"--query:1:6: {LOWERCASE_OR}" in ad_hoc.stderr

    (config_dir / "profiles" / "broken.yaml").write_text("query: 'a AND'\n", encoding="utf-8")
    assert monitor(*cfg, "validate", cwd=tmp_path).returncode == 2  # errors still decide


# --- a profile that does not match -----------------------------------------------------------

FOUND_BUT_NO_MATCH = "China exports rice, and the internet sells it."  # China, internet: no GFW


@pytest.mark.slow
def test_no_match_prints_no_match_and_the_failing_clauses(tmp_path: Path, config_dir: Path) -> None:
    cfg = ("--config", str(config_dir), "profiles", "test")
    text = monitor(
        *cfg, "great_firewall", "--text", FOUND_BUT_NO_MATCH, "--explain", cwd=tmp_path,
        env={"COLUMNS": "250"},
    )  # fmt: skip
    assert text.returncode == 1
    first, *tree = text.stdout.splitlines()
    assert first.startswith("great_firewall no match: the query does not hold")
    assert "learned check" in first  # the model was asked too (a rescue), and said no
    assert "score" not in text.stdout and "**" not in text.stdout and "> " not in text.stdout
    assert [line.strip() for line in tree[:2]] == ["✗ AND", "✗ OR"]  # the explain tree, ✗ on
    # what failed: the profile's clauses (an OR) and its exclusion of other countries' copies
    near_misses = [line.strip() for line in tree]  # alternatives with a term found, ✗ where
    assert "✓ China  (text ×1)" in near_misses  # they failed; the others summed up
    assert any(line.startswith("✗ within 10 words: (censor*") for line in near_misses)
    assert near_misses[-1].endswith("more alternatives, none found")

    record = json.loads(
        monitor(*cfg, "great_firewall", "--text", FOUND_BUT_NO_MATCH, "--format", "json",
                cwd=tmp_path).stdout
    )  # fmt: skip
    assert record["matched"] is False
    assert (record["matched_terms"], record["score"], record["snippets"]) == ([], 0, [])
    assert record["why_not"].startswith("the query does not hold (learned check ")
    assert 0 <= record["learned"] < 0.9  # below the profile's rescue


@pytest.mark.slow
def test_a_query_that_holds_below_min_score_is_no_match(tmp_path: Path, config_dir: Path) -> None:
    (config_dir / "profiles" / "strict.yaml").write_text(
        "description: x\nquery: firewall\nmin_score: 5\n", encoding="utf-8"
    )
    result = monitor(
        "--config", str(config_dir), "profiles", "test", "strict", "--text", "a firewall",
        "--explain", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert "strict no match: score 1 is below min_score 5" in result.stdout
    assert "✗ min_score: 5  (score 1)" in result.stdout


# --- profiles list ---------------------------------------------------------------------------


def _hit(engine: Any, feed_id: int, number: int, profile: str, when: datetime) -> None:
    url = f"https://a.example/{number}"
    articles.store_article(
        engine,
        feed_id=feed_id,
        entry=Entry(f"g{number}", url, f"Title {number}", "summary", when),
        article=Article(url, f"Title {number}", f"text {number}"),
        matches=[Match(profile, "v1", ["term"], 1.0, "**term**")],
        routes={},
        now=when,
    )


@pytest.mark.slow
def test_list_is_one_line_per_profile_with_hits_of_the_last_7_days(
    tmp_path: Path, config_dir: Path
) -> None:
    cfg = ("--config", str(config_dir), "profiles", "list")
    wide = {"COLUMNS": "250"}
    names = [p.stem for p in sorted((config_dir / "profiles").glob("*.yaml"))]

    no_db = monitor(*cfg, cwd=tmp_path, env=wide)
    assert no_db.returncode == 0, no_db.stderr
    rows = [line for line in no_db.stdout.splitlines() if any(n in line for n in names)]
    assert len(rows) == len(names) == 5  # one line each, not the queries
    great_firewall = next(row for row in rows if "great_firewall" in row)
    assert "The Great Firewall and internet censorship in China" in great_firewall
    assert "china-internet, great-firewall" in great_firewall
    assert all("│       – │" in row for row in rows)  # no database: no count
    assert not (tmp_path / "data").exists()  # … and listing made none

    url = f"sqlite:///{tmp_path / 'hits.db'}"
    _, engine = open_database(config_dir, url)
    feeds.sync_feeds(engine, [FeedSpec("https://a.example/rss")], datetime.now(UTC))
    feed_id = feeds.feed_rows(engine)["https://a.example/rss"].id or 0
    now = datetime.now(UTC)
    _hit(engine, feed_id, 1, "great_firewall", now - timedelta(days=1))
    _hit(engine, feed_id, 2, "great_firewall", now - timedelta(hours=1))
    _hit(engine, feed_id, 3, "cyber_sovereignty", now - timedelta(days=8))  # too old
    engine.dispose()

    counted = monitor(*cfg, cwd=tmp_path, env={**wide, "MONITOR_DATABASE_URL": url})
    assert counted.returncode == 0, counted.stderr
    counts = {
        name: row.split("│")[2].strip()
        for row in counted.stdout.splitlines()
        for name in names
        if f"│ {name} " in row
    }
    assert counts == dict.fromkeys(names, "0") | {"great_firewall": "2"}

    verbose = monitor(*cfg, "--verbose", cwd=tmp_path, env=wide)
    assert "great_firewall:" in verbose.stdout
    assert "  @GFW OR GreatFire OR Shadowsocks OR 科学上网" in verbose.stdout


def test_every_profiles_command_has_an_example_in_its_help() -> None:
    root: Any = typer.main.get_command(app)
    commands = root.commands["profiles"].commands
    assert sorted(commands) == ["backtest", "derive", "list", "test", "validate"]
    for name, command in commands.items():
        examples = [line for line in command.help.splitlines() if "Example:" in line]
        assert len(examples) == 1, name
        assert examples[0].strip().startswith(f"Example: monitor profiles {name}"), name


def test_the_service_logs_a_profiles_warnings_when_it_loads_it(
    sqlite_url: str, config_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (config_dir / "profiles" / "lower.yaml").write_text("query: firewall or censorship\n")
    settings, engine = open_database(config_dir, sqlite_url)
    caplog.set_level("WARNING", logger="monitor.service")
    Service(config_dir, settings, engine)
    engine.dispose()
    told = [r.getMessage() for r in caplog.records if r.name == "monitor.service"]
    assert any(m.startswith("profile lower: ") and LOWERCASE_OR in m for m in told), told
