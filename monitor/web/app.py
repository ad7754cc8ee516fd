"""The web application: one FastAPI app over one database and configuration folder (the read
API for now), with JSON errors, the token where the binding needs one, and headers that let a
browser load nothing from another host."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from monitor import __version__
from monitor.config.settings import FetchSettings
from monitor.web import (
    api,
    atom,
    drafts,
    errors,
    evidence,
    feedback,
    feedbacklink,
    ops,
    pages,
    profileapi,
    search,
    suggest,
    workbench,
)
from monitor.web.access import TokenRequired

SECURITY_HEADERS = {
    # the pages: their own stylesheet, forms and scripts (the editor's check as you type),
    # inline SVG; no inline script, nothing from elsewhere
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    # no referrer to other hosts; same-origin, so that a form's POST carries its real Origin
    "Referrer-Policy": "same-origin",
}


def create_app(
    engine: Engine,
    config_dir: Path,
    token: str | None = None,
    *,
    health: ops.Health | None = None,
    metrics: ops.Metrics | None = None,
    reads_open: bool = False,
    fetch: FetchSettings | None = None,
    evidence_dir: Path | None = None,
) -> FastAPI:
    """The application; `token`, when given, is required of every request but /healthz and
    /metrics (of every write only, with `reads_open`: listening on loopback); without one
    nothing can be written (monitor.web.access.writer). `health` and `metrics` answer those
    two (monitor.web.ops): a polling service passes its own; without them /healthz says the
    application answers and /metrics is 404. `fetch` is how the editor fetches a page;
    `evidence_dir` where hit articles' pages are kept (evidence.dir), for their export."""
    app = FastAPI(
        title="Governance-news monitor",
        version=__version__,
        docs_url=None,  # the interactive docs load scripts from a CDN: /openapi.json suffices
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.engine = engine
    app.state.token = token
    app.state.fetch = fetch or FetchSettings()  # how the editor's test panel fetches a URL
    app.state.config_dir = config_dir
    app.state.evidence_dir = evidence_dir
    app.state.health = health
    app.state.metrics = metrics
    errors.install(app)
    app.include_router(profileapi.router)  # before api: /profiles/{name} would take its paths
    app.include_router(api.router)
    app.include_router(workbench.router)  # before pages: /profiles/new is no profile's page
    app.include_router(drafts.router)  # nor is /profiles/derive
    app.include_router(search.router)
    app.include_router(suggest.router)
    app.include_router(suggest.pages)
    app.include_router(atom.router)
    app.include_router(evidence.router)  # before pages: /hits/{id}/evidence
    app.include_router(evidence.pages)
    app.include_router(pages.router)
    app.include_router(ops.router)
    app.include_router(feedback.router)
    app.include_router(feedbacklink.router)

    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    if token:
        app.add_middleware(TokenRequired, token=token, reads_open=reads_open)
    app.add_middleware(_SecurityHeaders)  # added last, so outermost: on the token's answers too
    return app


class _SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response
