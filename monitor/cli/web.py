"""`monitor web`: the web application without polling, for another machine, or beside a
`monitor run` whose own server is turned off (server.enabled: false)."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer

from monitor.cli.common import config_dir, engine, settings
from monitor.config.settings import evidence_folder
from monitor.logs import configure_logging


def web(
    ctx: typer.Context,
    host: Annotated[
        str | None,
        typer.Option(metavar="HOST", help="Address to listen on (default: server.host)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(metavar="PORT", min=0, max=65535, help="Port (default: server.port)."),
    ] = None,
) -> None:
    """Serve the web application (/api/v1, /openapi.json, /healthz) over the database,
    without polling, until Ctrl-C or SIGTERM. Beyond 127.0.0.1 it needs web.token
    (MONITOR_WEB_TOKEN), sent as a Bearer header. /metrics is `monitor run`'s alone.

    \b
    Example: monitor web --port 8700
    """
    from monitor.runtime import lifecycle  # noqa: PLC0415  (keeps the other commands light)
    from monitor.web.access import check_binding, loopback  # noqa: PLC0415
    from monitor.web.app import create_app  # noqa: PLC0415

    loaded = settings(ctx)
    bind = host or loaded.server.host
    check_binding(bind, loaded.web.token)
    configure_logging(loaded.log_level, stream=sys.stdout)
    app = create_app(
        engine(loaded),
        config_dir(ctx),
        loaded.web.token,
        reads_open=loopback(bind),
        fetch=loaded.fetch,
        evidence_dir=evidence_folder(loaded, config_dir(ctx)),
    )
    asyncio.run(
        lifecycle.serve(
            app,
            bind,
            port if port is not None else loaded.server.port,
            serves="the web application and /healthz",
            hint="give --port a free port, or set server.port",
        )
    )
