"""Secrets from alerts.yaml never reach the log, whoever writes the line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from monitor.logs import configure_logging, mask_secrets
from tests.newsroom import serve_newsroom
from tests.test_cli import monitor

PASSWORD = "hunter2-Secret"
TOKEN = "tok-8f2a9c41d7"


@pytest.fixture
def root_logging() -> Iterator[None]:
    """configure_logging replaces the root handlers: put pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_known_secrets_are_masked_in_messages_arguments_and_tracebacks(
    root_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", json_lines=True)
    mask_secrets([PASSWORD, TOKEN, "ab"])  # too short to mask safely: ignored
    log = logging.getLogger("apprise")
    log.warning("posting to json://bot:%s@hooks.example/%s", PASSWORD, TOKEN)
    try:
        raise RuntimeError(f"refused {TOKEN}")
    except RuntimeError:
        logging.getLogger("monitor.alerts").exception("delivery crashed (ab)")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert lines[0]["message"] == "posting to json://bot:****@hooks.example/****"
    assert lines[1]["message"] == "delivery crashed (ab)"
    assert "RuntimeError: refused ****" in lines[1]["exception"]


def test_a_failing_channel_never_shows_its_secrets(
    tmp_path: Path, config_dir: Path, httpserver: HTTPServer
) -> None:
    site = serve_newsroom(httpserver)
    (config_dir / "feeds.yaml").write_text(f"feeds:\n  - url: {site.zh_feed}\n")
    (config_dir / "monitor.yaml").write_text("log_level: DEBUG\nextract:\n  workers: 1\n")
    (config_dir / "alerts.yaml").write_text(
        "channels:\n  - url: json://bot:${HOOK_PW}@127.0.0.1:1/${HOOK_TOKEN}\n"
    )
    env = {"HOOK_PW": PASSWORD, "HOOK_TOKEN": TOKEN}
    cfg = ("--config", str(config_dir))
    run = monitor(*cfg, "run", "--once", cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    assert "delivery to json-" in run.stderr  # the failure is logged, by channel key
    status = monitor(*cfg, "alerts", "status", "--format", "json", cwd=tmp_path, env=env)
    assert json.loads(status.stdout)["counts"]["pending"] > 0
    for output in (run.stdout, run.stderr, status.stdout, status.stderr):
        assert PASSWORD not in output and TOKEN not in output
