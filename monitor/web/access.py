"""Who may read: everyone on 127.0.0.1 (the default binding); anywhere else only with the web
token, sent as `Authorization: Bearer TOKEN` or in the `monitor_token` cookie."""

from __future__ import annotations

import hmac
import ipaddress

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from monitor.errors import ConfigError
from monitor.web.errors import error

COOKIE = "monitor_token"
OPEN = ("/healthz",)  # what an orchestrator probes without a token


def check_binding(host: str, token: str | None) -> None:
    """Binding anywhere but loopback needs a token: refuse to start without one."""
    if token or _loopback(host):
        return
    raise ConfigError(
        f"web: serving on {host} needs web.token (MONITOR_WEB_TOKEN): without it anyone who "
        "reaches the port reads the archive; set one, or keep the default host 127.0.0.1"
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TokenRequired(BaseHTTPMiddleware):
    """Answers 401 (JSON) to a request without the token (compared in constant time)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        super().__init__(app)
        self._token = token.encode()

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.url.path in OPEN:
            return await call_next(request)
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        sent = given if scheme.lower() == "bearer" else request.cookies.get(COOKIE, "")
        if not hmac.compare_digest(sent.encode(), self._token):
            return error(401, "a token is required: Authorization: Bearer <web.token>")
        return await call_next(request)
