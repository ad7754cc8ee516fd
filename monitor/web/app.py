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

from monitor import __version__
from monitor.web import api, errors
from monitor.web.access import TokenRequired

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def create_app(engine: Engine, config_dir: Path, token: str | None = None) -> FastAPI:
    """The application; `token`, when given, is required of every request but /healthz."""
    app = FastAPI(
        title="Governance-news monitor",
        version=__version__,
        docs_url=None,  # the interactive docs load scripts from a CDN: /openapi.json suffices
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.engine = engine
    app.state.config_dir = config_dir
    errors.install(app)
    app.include_router(api.router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(_SecurityHeaders)
    if token:
        app.add_middleware(TokenRequired, token=token)
    return app


class _SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response
