"""Smoke test of the archive benchmark (benchmarks.archive) on a tiny archive: it builds, serves
and measures on SQLite (and PostgreSQL when the server is there), reports every figure with a
number, and the hits it stored are the ones a backtest finds again. No timing thresholds."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from benchmarks import archive
from benchmarks.archivegen import LANGUAGES, Generator, Plan, anchor_now, load_material
from benchmarks.instance import postgres_unavailable
from monitor.profiles.candidates import Literal
from monitor.store.engine import open_engine, upgrade
from monitor.store.search import match_expression
from tests.conftest import REQUIRE_PG

pytestmark = pytest.mark.slow  # builds databases and serves HTTP: `make test-quick` skips it

FIGURES = (
    "build of 2,000 articles",
    "database size",
    "GET /hits (HTML page)",
    "GET /api/v1/hits (profile, zh, since)",
    "GET /api/v1/hits page 2 (next_cursor)",
    "GET /feeds/hits.atom",
    "GET /feeds/profiles/great_firewall.atom",
    "GET /api/v1/stats/hits (day, 365 days)",
    'GET /api/v1/search english phrase "great firewall"',
    "GET /api/v1/search 2-character Chinese 网信",
    "GET /api/v1/search 4-character Chinese 网络主权",
    "backtest great_firewall over the archive",
    "store_article, index kept up to date",
    "store_article, without the index",
    "store_article with ÷ without the index",
    "pipeline drop from the index (estimate)",
)


def options(*arguments: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    archive.add_arguments(parser)
    return parser.parse_args(list(arguments))


def test_the_generator_is_deterministic_and_mixes_languages() -> None:
    material = load_material()
    plan = Plan(1_000, anchor_now())
    first = Generator(material, plan).chunk(1, 200)
    again = Generator(material, plan).chunk(1, 200)
    assert first.articles == again.articles and first.hits == again.hits
    assert len({a["text"] for a in first.articles}) == 200  # every article distinct
    assert {a["language"] for a in first.articles} == set(LANGUAGES)
    assert [i for i, _ in first.index] == [a["id"] for a in first.articles]
    assert first.hits  # about one article in ten
    built_in = Generator(load_material(None), plan).chunk(1, 200)  # a clone without ../shared
    assert built_in.hits and len({a["text"] for a in built_in.articles}) == 200


def test_the_bulk_load_writes_what_store_article_writes(tmp_path: Path) -> None:
    """The benchmark's archive is the one the service would have stored: the same rows in
    article, entry and hit, and the same search index, as store_article one by one."""
    anchor = anchor_now()
    engines = {}
    for name in ("bulk", "one by one"):
        engines[name] = open_engine(f"sqlite:///{tmp_path / name}.db")
        upgrade(engines[name])
        ids = archive.store_feeds(engines[name], anchor)
    chunk = Generator(load_material(), Plan(60, anchor, 3, ids)).chunk(1, 60)
    assert chunk.hits
    # store_article folding the text itself: the generator's index form must agree with it
    archive.store_one_by_one(engines["one by one"], archive.store_inputs(chunk), index=False)
    archive.insert_chunk(engines["bulk"], chunk)
    rows: dict[str, dict[str, list[Any]]] = {}
    probes = ["中国", "firewall", "the", "网信", "интернет"]
    for name, engine in engines.items():
        with engine.connect() as conn:
            rows[name] = {
                table: [
                    tuple(row) for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY id"))
                ]
                for table in ("article", "entry", "hit")
            }
            for literal in probes:
                match = match_expression(Literal(literal))
                found = conn.execute(
                    text(
                        "SELECT rowid FROM article_search WHERE article_search MATCH :m ORDER BY 1"
                    ),
                    {"m": match},
                )
                rows[name][literal] = [row[0] for row in found]
        engine.dispose()
    assert rows["bulk"] == rows["one by one"]
    assert len(rows["bulk"]["article"]) == 60 and rows["bulk"]["the"]


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_benchmark_reports_every_figure(kind: str, tmp_path: Path) -> None:
    if kind == "postgresql" and (reason := postgres_unavailable()):
        if REQUIRE_PG:
            pytest.fail(f"{reason}; MONITOR_TEST_REQUIRE_POSTGRES=1 makes this an error")
        pytest.skip(reason)
    arguments = ["--articles", "2000", "--repeats", "3", "--warmups", "1", "--databases", kind]
    arguments += ["--store-articles", "100", "--page-size", "5", "--folder", str(tmp_path)]
    result = archive.run(options(*arguments, "--workers", "1"))
    assert result["name"] == "archive"
    found: dict[str, dict[str, Any]] = {row["figure"]: row for row in result["figures"]}
    assert set(found) == {f"archive {kind}: {name}" for name in FIGURES}
    for name, row in found.items():
        skipped = row["note"].startswith("skipped:")
        assert skipped or row["median"] > 0, name
        assert row["low"] <= row["median"] <= row["high"], name
        assert (row["target"] is None) == (row["ok"] is None), name
    (database,) = result["details"]["databases"]
    assert database["build"]["articles"] == 2000
    assert 0 < database["build"]["articles_with_hits"] < 2000
    assert 0 < database["sizes"]["search_index_share"] < 1
    run = database["backtest"]
    assert run["added"] == run["removed"] == 0  # the stored hits are what the matcher says
    assert run["kept"] == database["build"]["hits great_firewall"]
    assert not [r["failed"] for r in database["requests"] if r["failed"]]
    searches = [r for r in database["requests"] if "search" in r["label"]]
    assert all(r["answer"]["examined"] >= r["answer"]["items"] for r in searches)
    assert list(tmp_path.iterdir()) == []  # nothing kept without --keep
