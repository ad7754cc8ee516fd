"""Secrets from alerts.yaml never reach the log, whoever writes the line."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from monitor.logs import configure_logging, mask_secrets
from monitor.models import PollResult
from monitor.pipeline.poll import log_poll
from tests.newsroom import serve_newsroom
from tests.test_cli import monitor

PASSWORD = "hunter2-Secret"
TOKEN = "tok-8f2a9c41d7"


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


FAILED_POLL = PollResult(
    feed=f"https://reader:{PASSWORD}@feeds.example/rss",
    status="error",
    http_status=401,
    duration_ms=87,
    error=f"HTTP 401 from https://reader:{PASSWORD}@feeds.example/rss",
    error_category="http_4xx",
)


def test_a_poll_line_carries_its_fields_as_json_keys_secrets_masked(
    root_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", json_lines=True)
    mask_secrets([PASSWORD])
    log_poll(FAILED_POLL)
    log_poll(PollResult("Xinhua", "ok", http_status=200, entries=20, entries_new=3, hits=2))
    err = capsys.readouterr().err
    assert PASSWORD not in err
    failed, ok = (json.loads(line) for line in err.splitlines())
    assert failed["level"] == "warning" and failed["logger"] == "monitor.poll"
    assert failed["feed"] == "https://reader:****@feeds.example/rss"
    assert failed["error"] == "HTTP 401 from https://reader:****@feeds.example/rss"
    assert (failed["status"], failed["http_status"], failed["error_category"]) == (
        "error",
        401,
        "http_4xx",
    )
    assert failed["duration_ms"] == 87
    assert ok == ok | {
        "feed": "Xinhua",
        "status": "ok",
        "http_status": 200,
        "entries": 20,
        "entries_new": 3,
        "hits": 2,
        "alerts": 0,
        "error_category": None,
        "duration_ms": 0,
        "error": None,
    }
    assert ok["message"].startswith("poll feed='Xinhua' status=ok ")


def test_a_poll_line_on_a_terminal_reads_as_key_value_secrets_masked(
    root_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", json_lines=False)
    mask_secrets([PASSWORD])
    log_poll(FAILED_POLL)
    line = capsys.readouterr().err.strip()
    assert PASSWORD not in line and not line.startswith("{")
    assert line.endswith(
        "monitor.poll: poll feed='https://reader:****@feeds.example/rss' status=error "
        "error_category=http_4xx http_status=401 entries=0 entries_new=0 hits=0 alerts=0 "
        "duration_ms=87 error='HTTP 401 from https://reader:****@feeds.example/rss'"
    )


@pytest.mark.slow
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
    assert run.returncode == 1, run.stderr  # the delivery failed: --once says so and exits 1
    assert "delivery to json-" in run.stdout  # the failure is logged (stdout), by channel key
    status = monitor(*cfg, "alerts", "status", "--format", "json", cwd=tmp_path, env=env)
    assert json.loads(status.stdout)["counts"]["pending"] > 0
    for output in (run.stdout, run.stderr, status.stdout, status.stderr):
        assert PASSWORD not in output and TOKEN not in output
