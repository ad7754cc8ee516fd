"""`monitor alerts status | retry | test` against real channels on loopback."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from monitor.runtime.lifecycle import run_once
from monitor.runtime.service import Service
from tests.conftest import open_database
from tests.newsroom import serve_newsroom
from tests.test_cli import monitor

pytestmark = pytest.mark.slow  # processes, servers or whole cycles: `make test-quick` skips it


def test_failed_alerts_are_listed_requeued_and_delivered(
    tmp_path: Path, config_dir: Path, httpserver: HTTPServer
) -> None:
    site = serve_newsroom(httpserver)
    received: list[dict[str, Any]] = []
    up = [False]

    def hook(request: Request) -> Response:
        if not up[0]:
            return Response("down", status=503)
        received.append(json.loads(request.get_data()))
        return Response("ok")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(hook)
    (config_dir / "feeds.yaml").write_text(f"feeds:\n  - url: {site.zh_feed}\n")
    (config_dir / "alerts.yaml").write_text(
        f"channels:\n  - url: {httpserver.url_for('/hook').replace('http://', 'json://')}\n"
        "    name: hook\n    group: profile\n"  # one message per alert: each is listed, requeued
    )
    (config_dir / "monitor.yaml").write_text("extract:\n  workers: 1\nalerts:\n  max_attempts: 1\n")
    database = f"sqlite:///{tmp_path / 'data' / 'monitor.db'}"
    settings, engine = open_database(config_dir, database)
    report = asyncio.run(run_once(Service(config_dir, settings, engine)))
    assert report.delivery.failed == report.alerts_created > 0
    cfg = ("--config", str(config_dir))
    env = {"MONITOR_DATABASE_URL": database}

    status = json.loads(
        monitor(*cfg, "alerts", "status", "--format", "json", cwd=tmp_path, env=env).stdout
    )
    assert status["counts"] == {"failed": report.alerts_created}
    assert all(a["channel"] == "hook" and "503" in a["last_error"] for a in status["undelivered"])
    table = monitor(*cfg, "alerts", "status", cwd=tmp_path, env={**env, "COLUMNS": "200"})
    assert f"{report.alerts_created} failed" in table.stdout

    requeued = monitor(*cfg, "alerts", "retry", "--channel", "hook", cwd=tmp_path, env=env)
    assert f"{report.alerts_created} failed alert(s) and 0" in requeued.stdout
    up[0] = True
    again = asyncio.run(Service(config_dir, settings, engine).deliver())
    assert again.sent == report.alerts_created == len(received)
    engine.dispose()


def test_test_message_reports_each_channel(
    tmp_path: Path, config_dir: Path, httpserver: HTTPServer
) -> None:
    received: list[dict[str, Any]] = []

    def hook(request: Request) -> Response:
        received.append(json.loads(request.get_data()))
        return Response("ok")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(hook)
    (config_dir / "alerts.yaml").write_text(
        f"channels:\n  - url: {httpserver.url_for('/hook').replace('http://', 'json://')}\n"
        "    name: hook\n    tags: [ops]\n"
        "  - url: json://127.0.0.1:1/nothing\n    name: dead\n    tags: [team]\n"
    )
    cfg = ("--config", str(config_dir), "alerts", "test")
    both = monitor(*cfg, cwd=tmp_path, env={"COLUMNS": "200"})
    assert both.returncode == 1
    assert "sent   hook" in both.stdout and "failed dead" in both.stdout
    assert "127.0.0.1:1" not in both.stdout  # channel URLs may hold secrets: never shown
    ops = monitor(*cfg, "--tag", "ops", cwd=tmp_path)
    assert ops.returncode == 0 and "dead" not in ops.stdout
    assert len(received) == 2 and received[0]["title"] == "[monitor] test message"


def test_failed_notices_and_waiting_digests_are_listed_and_requeued(
    tmp_path: Path, config_dir: Path
) -> None:
    (config_dir / "alerts.yaml").write_text(
        "channels:\n  - url: json://127.0.0.1:1/ops\n    name: ops\n    tags: [system]\n"
    )
    (config_dir / "monitor.yaml").write_text("alerts:\n  max_attempts: 1\n")
    database = f"sqlite:///{tmp_path / 'monitor.db'}"
    settings, engine = open_database(config_dir, database)
    service = Service(config_dir, settings, engine)
    assert service.outbox.notify_system("config", "config:1", "Broken file", "line 3") == 1
    assert service.outbox.deliver().failed == 1
    cfg = ("--config", str(config_dir))
    env = {"MONITOR_DATABASE_URL": database}

    status = json.loads(
        monitor(*cfg, "alerts", "status", "--format", "json", cwd=tmp_path, env=env).stdout
    )
    assert status["message_counts"] == {"failed": 1}
    [notice] = status["undelivered_messages"]
    assert (notice["channel"], notice["kind"], notice["status"]) == ("ops", "config", "failed")
    assert "127.0.0.1:1" not in json.dumps(status)
    table = monitor(*cfg, "alerts", "status", cwd=tmp_path, env={**env, "COLUMNS": "200"})
    assert "digests and notices: 1 failed" in table.stdout
    requeued = monitor(*cfg, "alerts", "retry", cwd=tmp_path, env=env)
    assert "0 failed alert(s) and 1 failed digest(s)/notice(s) requeued" in requeued.stdout
    engine.dispose()
