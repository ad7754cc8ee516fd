"""The operator's HTTP endpoint while `monitor run` runs: /healthz and /metrics.

Bound to 127.0.0.1 by default (server.host): the figures are not secret, but nothing outside
the machine needs them unless the operator says so. /healthz answers 200 while this
instance's last cycle is recent and 503 when it is stale (a container orchestrator restarts
it); /metrics is Prometheus's text format.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from monitor.config.settings import ServerSettings
from monitor.errors import ConfigError

log = logging.getLogger("monitor.server")

Health = Callable[[], tuple[bool, dict[str, Any]]]  # (healthy, what /healthz shows)


class OpsServer:
    """`async with OpsServer(...)` serves until the block ends; `port` is the bound port."""

    def __init__(
        self, settings: ServerSettings, health: Health, metrics: Callable[[], bytes]
    ) -> None:
        self._settings = settings
        self._health = health
        self._metrics = metrics
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def __aenter__(self) -> OpsServer:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics_page)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._settings.host, self._settings.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(
                f"server: cannot listen on {self._settings.host}:{self._settings.port} "
                f"({exc.strerror}); set server.port to a free port, or server.enabled: false"
            ) from None
        self._runner = runner
        self.port = int(runner.addresses[0][1])  # the port bound (server.port 0: any)
        log.info("serving /healthz and /metrics on http://%s:%s", self._settings.host, self.port)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _healthz(self, _request: web.Request) -> web.Response:
        healthy, body = self._health()
        return web.json_response(body, status=200 if healthy else 503)

    async def _metrics_page(self, _request: web.Request) -> web.Response:
        try:
            page = await asyncio.to_thread(self._metrics)
        except Exception as exc:  # noqa: BLE001  (the database may be down: say so, keep serving)
            log.warning("metrics unavailable: %s: %s", type(exc).__name__, exc)
            return web.Response(status=503, text=f"metrics unavailable: {type(exc).__name__}\n")
        return web.Response(body=page, headers={"Content-Type": CONTENT_TYPE_LATEST})
