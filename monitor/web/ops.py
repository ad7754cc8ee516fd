"""The operator's endpoints: /healthz and /metrics, answered from the seams create_app was
given (`health`, `metrics`: a polling `monitor run` passes its service's). Both are open
without the token (monitor.web.access.OPEN): container health checks and Prometheus send none.

Without a `health` seam (`monitor web`: nothing polls, so nothing can go stale) /healthz says
that the application answers; without a `metrics` seam there is no /metrics (404): the
figures belong to the instance that polls."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

log = logging.getLogger("monitor.web")

Health = Callable[[], tuple[bool, dict[str, Any]]]  # (healthy, the body /healthz shows); cheap
Metrics = Callable[[], bytes]  # Prometheus's text format; may block (it reads the database)

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """200 while healthy, 503 otherwise; the body says why. Called on the event loop."""
    health: Health | None = request.app.state.health
    if health is None:
        return JSONResponse({"status": "ok"})
    healthy, body = health()
    return JSONResponse(body, status_code=200 if healthy else 503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """The Prometheus page, rendered in a thread; 503 when it cannot be (the database may be
    down: the scrape says so, the server goes on), and one log line until a scrape works
    again, not one per scrape."""
    state = request.app.state
    render: Metrics | None = state.metrics
    if render is None:
        raise HTTPException(404, "no /metrics here: `monitor run` serves them")
    try:
        page = await asyncio.to_thread(render)
    except Exception as exc:  # noqa: BLE001  (whatever failed, the answer is the same)
        if not getattr(state, "metrics_failing", False):
            error = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            log.warning("metrics unavailable: %s: %s", type(exc).__name__, error)
        state.metrics_failing = True
        return PlainTextResponse(f"metrics unavailable: {type(exc).__name__}\n", 503)
    state.metrics_failing = False
    return Response(page, media_type=CONTENT_TYPE_LATEST)
