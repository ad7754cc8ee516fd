"""`monitor profiles validate | test | backtest` as users and scripts run them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from monitor.runtime.lifecycle import run_once
from monitor.runtime.service import Service
from tests.conftest import open_database
from tests.newsroom import ZH_TITLE, article_page, serve_newsroom
from tests.test_cli import monitor

pytestmark = pytest.mark.slow  # processes, servers or whole cycles: `make test-quick` skips it

GFW = "Critics say the Great Firewall now blocks Gmail across the mainland."


def test_validate_reports_file_line_and_column_with_a_caret(
    tmp_path: Path, config_dir: Path
) -> None:
    cfg = ("--config", str(config_dir))
    good = monitor(*cfg, "profiles", "validate", cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert "5 profile(s)" in good.stdout
    (config_dir / "profiles" / "broken.yaml").write_text(
        "description: x\nquery: '\"great firewall\" AND'\n"
    )
    bad = monitor(*cfg, "profiles", "validate", cwd=tmp_path)
    assert bad.returncode == 2
    assert (
        f"{config_dir / 'profiles' / 'broken.yaml'}:2:29: query: the query ends too early"
        in bad.stderr
    )
    assert bad.stderr.rstrip().endswith("^")
    assert "Traceback" not in bad.stderr


def test_test_a_profile_on_text_as_text_and_json(tmp_path: Path, config_dir: Path) -> None:
    cfg = ("--config", str(config_dir), "profiles", "test")
    hit = monitor(
        *cfg, "great_firewall", "--text", GFW, "--explain", cwd=tmp_path, env={"COLUMNS": "200"}
    )
    assert hit.returncode == 0, hit.stderr
    assert "great_firewall matches" in hit.stdout
    assert "✓" in hit.stdout and "**Great Firewall**" in hit.stdout
    miss = monitor(*cfg, "great_firewall", "--text", "Bread and butter", cwd=tmp_path)
    assert miss.returncode == 1 and "no match" in miss.stdout

    one = json.loads(
        monitor(*cfg, "great_firewall", "--text", GFW, "--format", "json", cwd=tmp_path).stdout
    )
    assert one["profile"] == "great_firewall" and one["matched"] is True
    assert one["matched_terms"] and one["score"] >= 1 and one["snippets"]
    every = json.loads(
        monitor(*cfg, "--all", "--text", GFW, "--format", "json", "--explain", cwd=tmp_path).stdout
    )
    assert len(every) == 5
    assert {r["profile"] for r in every if r["matched"]} == {"great_firewall"}
    assert all(isinstance(r["explain"], list) for r in every)


def test_test_an_ad_hoc_query_on_a_file_and_a_url(
    tmp_path: Path, config_dir: Path, httpserver: HTTPServer
) -> None:
    cfg = ("--config", str(config_dir), "profiles", "test")
    page = tmp_path / "page.html"
    page.write_text(article_page("Rules", [GFW] * 5), encoding="utf-8")
    on_file = monitor(
        *cfg,
        "--query",
        '"great firewall" NEAR/5 gmail',
        "--file",
        str(page),
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert json.loads(on_file.stdout)["matched"] is True
    site = serve_newsroom(httpserver)
    on_url = monitor(
        *cfg, "--query", "网信办 lang:zh", "--url", site.zh_url, "--format", "json", cwd=tmp_path
    )
    result = json.loads(on_url.stdout)
    assert result["matched"] is True and result["language"].startswith("zh")
    bad = monitor(*cfg, "--query", "a OR", "--text", "a", cwd=tmp_path)
    assert bad.returncode == 2 and "ends too early" in bad.stderr


def test_backtest_lists_what_an_edit_would_add_and_remove(
    tmp_path: Path, config_dir: Path, httpserver: HTTPServer
) -> None:
    site = serve_newsroom(httpserver)
    (config_dir / "feeds.yaml").write_text(
        f"feeds:\n  - url: {site.en_feed}\n  - url: {site.zh_feed}\n"
    )
    (config_dir / "monitor.yaml").write_text("extract:\n  workers: 1\n")
    database = f"sqlite:///{tmp_path / 'data' / 'monitor.db'}"
    settings, engine = open_database(config_dir, database)
    asyncio.run(run_once(Service(config_dir, settings, engine)))
    engine.dispose()

    (config_dir / "profiles" / "great_firewall.yaml").write_text(
        "description: edited\nquery: bakery OR bread\n"  # loses the firewall stories, gains one
    )
    result = monitor(
        "--config",
        str(config_dir),
        "profiles",
        "backtest",
        "great_firewall",
        "--since",
        "1d",
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "backtesting" not in result.stderr  # a pipe: no progress display
    report = json.loads(result.stdout)
    assert report["articles"] == 4
    assert [a["url"] for a in report["added"]] == [site.unrelated_url]
    removed = {a["title"] for a in report["removed"]}
    assert ZH_TITLE in removed and len(removed) >= 2
    text = monitor(
        "--config",
        str(config_dir),
        "profiles",
        "backtest",
        "great_firewall",
        cwd=tmp_path,
        env={"COLUMNS": "200"},
    )
    assert "1 would be added" in text.stdout
