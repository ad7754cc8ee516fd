"""`monitor web`: the web application (the read API for now) without polling, for a second
machine or beside a service run by systemd."""

from __future__ import annotations

from typing import Annotated

import typer

from monitor.cli.common import config_dir, engine, out, settings


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
    """Serve the read API (/api/v1, /openapi.json) over the database, without polling. Beyond
    127.0.0.1 it needs web.token (MONITOR_WEB_TOKEN), sent as a Bearer header.

    \b
    Example: monitor web --port 8700
    """
    import uvicorn  # noqa: PLC0415  (keeps the other commands light)

    from monitor.web.access import check_binding  # noqa: PLC0415
    from monitor.web.app import create_app  # noqa: PLC0415

    loaded = settings(ctx)
    bind = host or loaded.server.host
    check_binding(bind, loaded.web.token)
    app = create_app(engine(loaded), config_dir(ctx), loaded.web.token)
    out.print(
        f"serving the read API on http://{bind}:{port if port is not None else loaded.server.port}"
    )
    uvicorn.run(
        app,
        host=bind,
        port=port if port is not None else loaded.server.port,
        log_config=None,  # our logging, not uvicorn's own
        access_log=False,
    )
