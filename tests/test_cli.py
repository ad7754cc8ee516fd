"""The `monitor` command as scripts use it: real subprocesses, exit codes and output formats."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from rich.console import Console
from typer.testing import CliRunner

from monitor.cli import app
from monitor.cli.common import progress
from tests.conftest import REPO
from tests.newsroom import serve_newsroom

pytestmark = pytest.mark.slow  # processes, servers or whole cycles: `make test-quick` skips it

HIT_KEYS = {
    "profile",
    "url",
    "title",
    "feed",
    "published_at",
    "matched_terms",
    "score",
    "snippet",
    "created_at",
}


def monitor(
    *args: str, cwd: Path, env: dict[str, str] | None = None, script: bool = False
) -> subprocess.CompletedProcess[str]:
    command = (
        [sys.executable, str(REPO / "run_monitor.py")]
        if script
        else [sys.executable, "-m", "monitor"]
    )
    return subprocess.run(
        [*command, *args],
        cwd=cwd,
        env={**os.environ, "MONITOR_CONFIG_DIR": "", **(env or {})},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_run_once_then_hits_in_every_format(
    tmp_path: Path, config_dir: Path, httpserver: HTTPServer
) -> None:
    site = serve_newsroom(httpserver)
    (config_dir / "feeds.yaml").write_text(f"feeds:\n  - url: {site.zh_feed}\n")
    (config_dir / "monitor.yaml").write_text("extract:\n  workers: 1\n")

    ran = monitor("--config", str(config_dir), "--once", cwd=tmp_path, script=True)

    assert ran.returncode == 0, ran.stderr
    assert (tmp_path / "data" / "monitor.db").is_file()  # the default database, created
    assert "ALERT [china_cyber_regulator," in ran.stdout  # no channel: alerts go to the log

    as_json = monitor("--config", str(config_dir), "hits", "--format", "json", cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    records = json.loads(as_json.stdout)
    assert {r["profile"] for r in records} >= {"china_cyber_regulator", "great_firewall"}
    assert all(set(r) >= HIT_KEYS for r in records)
    assert all(r["url"] == site.zh_url and isinstance(r["matched_terms"], list) for r in records)

    one = monitor(
        "--config",
        str(config_dir),
        "hits",
        "--profile",
        "great_firewall",
        "--since",
        "1d",
        "--format",
        "jsonl",
        cwd=tmp_path,
    )
    [line] = one.stdout.splitlines()
    assert json.loads(line)["profile"] == "great_firewall"

    as_csv = monitor("--config", str(config_dir), "hits", "--format", "csv", cwd=tmp_path)
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert len(rows) == len(records)
    assert set(rows[0]) >= HIT_KEYS

    table = monitor("--config", str(config_dir), "hits", "--limit", "1", cwd=tmp_path)
    assert table.returncode == 0 and "1 hit(s)" in table.stdout

    again = monitor("--config", str(config_dir), "run", "--once", "--all", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "cycle feeds_polled=" in again.stdout  # `monitor run` logs to stdout
    assert "ALERT" not in again.stdout
    assert len(
        json.loads(
            monitor("--config", str(config_dir), "hits", "--format", "json", cwd=tmp_path).stdout
        )
    ) == len(records)


def test_config_error_exits_2_with_file_and_line(tmp_path: Path, config_dir: Path) -> None:
    (config_dir / "feeds.yaml").write_text(
        "feeds:\n  - url: https://a.example/rss\n    interval: 5\n"
    )
    result = monitor("--config", str(config_dir), "run", "--once", cwd=tmp_path)
    assert result.returncode == 2
    assert f"{config_dir / 'feeds.yaml'}:3: feeds[0].interval" in result.stderr
    assert "Traceback" not in result.stderr


def test_environment_selects_config_and_bad_setting_exits_2(
    tmp_path: Path, config_dir: Path
) -> None:
    result = monitor(
        "feeds",
        "list",
        cwd=tmp_path,
        env={"MONITOR_CONFIG_DIR": str(config_dir), "MONITOR_FETCH_TIMEOUT": "soon"},
    )
    assert result.returncode == 2
    assert "MONITOR_FETCH_TIMEOUT" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_config_folder_exits_2(tmp_path: Path) -> None:
    result = monitor("run", "--once", cwd=tmp_path)  # ./config does not exist here
    assert result.returncode == 2
    assert "configuration folder not found" in result.stderr


def test_feeds_commands_edit_feeds_yaml(tmp_path: Path, config_dir: Path) -> None:
    cfg = ("--config", str(config_dir))
    added = monitor(
        *cfg,
        "feeds",
        "add",
        "https://a.example/rss",
        "--name",
        "A",
        "--interval",
        "2h",
        cwd=tmp_path,
    )
    assert added.returncode == 0, added.stderr
    assert "interval: 7200" in (config_dir / "feeds.yaml").read_text()
    bad = monitor(*cfg, "feeds", "add", "ftp://a.example/rss", cwd=tmp_path)
    assert bad.returncode == 2 and "http" in bad.stderr

    opml = monitor(*cfg, "feeds", "export-opml", cwd=tmp_path)
    assert 'xmlUrl="https://a.example/rss"' in opml.stdout
    (tmp_path / "more.opml").write_text(
        '<opml version="2.0"><body><outline text="folder">'
        '<outline text="B" xmlUrl="https://b.example/atom"/></outline>'
        '<outline text="A again" xmlUrl="https://a.example/rss"/></body></opml>'
    )
    imported = monitor(*cfg, "feeds", "import-opml", str(tmp_path / "more.opml"), cwd=tmp_path)
    assert "1 feed(s) added, 1 already listed" in imported.stdout
    assert imported.stderr == ""  # a pipe: no progress display

    assert monitor(*cfg, "db", "upgrade", cwd=tmp_path).returncode == 0  # `list` makes none
    listed = monitor(*cfg, "feeds", "list", cwd=tmp_path, env={"COLUMNS": "200"})
    assert listed.returncode == 0, listed.stderr
    assert "https://b.example/atom" in listed.stdout and "never" in listed.stdout

    assert monitor(*cfg, "feeds", "remove", "https://a.example/rss", cwd=tmp_path).returncode == 0
    assert monitor(*cfg, "feeds", "remove", "https://a.example/rss", cwd=tmp_path).returncode == 1
    assert "a.example" not in (config_dir / "feeds.yaml").read_text()


def test_db_upgrade_and_profiles_list(tmp_path: Path, config_dir: Path) -> None:
    upgraded = monitor("--config", str(config_dir), "db", "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    profiles = monitor(
        "--config", str(config_dir), "profiles", "list", cwd=tmp_path, env={"COLUMNS": "200"}
    )
    assert profiles.returncode == 0
    for name in ("world_internet_conference", "great_firewall", "cyber_sovereignty"):
        assert name in profiles.stdout


@pytest.mark.parametrize("args", [["run", "--all"], ["hits", "--since", "yesterday-ish"]])
def test_usage_errors_exit_2(tmp_path: Path, config_dir: Path, args: list[str]) -> None:
    result = monitor("--config", str(config_dir), *args, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_progress_is_silent_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with progress("checking feeds", 3) as advance:
        advance(1)
        advance(2)
    assert capsys.readouterr() == ("", "")


def test_progress_draws_a_counted_bar_on_a_terminal() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=80)
    with progress("checking feeds", 300, console=console) as advance:
        for _ in range(300):
            advance(1)
    drawn = screen.getvalue()
    assert "checking feeds" in drawn and "300/300" in drawn
    assert drawn.endswith("\x1b[1A\x1b[2K")  # transient: the bar's line erased at the end


def test_opml_import_output_is_unchanged_under_clirunner(tmp_path: Path, config_dir: Path) -> None:
    outlines = "".join(
        f'<outline text="F{n}" xmlUrl="https://f{n}.example/rss"/>' for n in range(300)
    )
    opml = tmp_path / "many.opml"
    opml.write_text(f'<opml version="2.0"><body>{outlines}</body></opml>')
    result = CliRunner().invoke(
        app, ["--config", str(config_dir), "feeds", "import-opml", str(opml)]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "300 feed(s) added, 0 already listed\n"
    assert result.stderr == ""
    assert "https://f299.example/rss" in (config_dir / "feeds.yaml").read_text()
