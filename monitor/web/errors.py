"""Errors as JSON, `{"error": {"status": 404, "message": "…"}}`, whatever went wrong: a client
never sees a traceback. A browser asking for a page gets the same error as an HTML page
(monitor.web.render.error_page); the API's paths answer JSON always."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response

from monitor.web.queries import BadQuery
from monitor.web.render import error_page

log = logging.getLogger("monitor.web")


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)


def located(status: int, message: str, line: int | None, column: int | None) -> JSONResponse:
    """An error with the line and column it is at (in a query, or in a profile file)."""
    body = {"status": status, "message": message, "line": line, "column": column}
    return JSONResponse({"error": body}, status_code=status)


def install(app: FastAPI) -> None:
    """The handlers that turn every failure into an `error` answer."""

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        message = str(exc.detail)
        return error_page(request, exc.status_code, message) or error(exc.status_code, message)

    @app.exception_handler(BadQuery)
    async def bad_query(request: Request, exc: BadQuery) -> Response:
        where = f"{exc.message} (line {exc.line}, column {exc.column})"
        return error_page(request, 400, where) or located(400, exc.message, exc.line, exc.column)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg', '')}"
            for e in exc.errors()
        )
        return error(400, problems or "bad request")

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        log.exception("%s %s failed", request.method, request.url.path)
        message = f"internal error ({type(exc).__name__}); the service log has the rest"
        return error_page(request, 500, message) or error(500, message)
