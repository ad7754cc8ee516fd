"""The process's one HTTP server: uvicorn serving an ASGI application (the web application,
handed in by the caller: the runtime knows nothing of its routes) on the running event loop.

The socket is bound here, before uvicorn sees it, so that a port in use is a ConfigError that
says what to change (uvicorn itself would exit the process), and so that `port: 0` tells which
port it got. uvicorn's own signal handlers are left out: SIGINT and SIGTERM belong to whoever
runs the loop (monitor.runtime.lifecycle), which ends the server by leaving the block.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

from monitor.errors import ConfigError

log = logging.getLogger("monitor.server")

STOP_SECONDS = 5  # at shutdown, requests still open get this long before they are cancelled
BACKLOG = 2048  # connections waiting to be accepted (uvicorn's default)
RUN_HINT = "set server.port to a free port, or server.enabled: false"


class WebServer:
    """`async with WebServer(app, host, port) as server:` serves `app` until the block ends;
    `server.port` is the port bound (any free one for port 0). `serves` names what is served
    in the log line; `hint` ends the error raised when the address cannot be bound."""

    def __init__(
        self,
        app: ASGIApp,
        host: str,
        port: int,
        *,
        serves: str = "the web application",
        hint: str = RUN_HINT,
    ) -> None:
        self._app, self._host, self._serves, self._hint = app, host, serves, hint
        self.port = port
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> WebServer:
        sock = _bind(self._host, self.port, self._hint)
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self._app,
            host=self._host,
            port=self.port,
            log_config=None,  # our logging, not uvicorn's own
            log_level="warning",  # its start and stop lines: ours say where it serves
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=STOP_SECONDS,
        )
        server = _Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]), name="web server")
        self._server, self._task = server, task
        try:
            while not server.started:  # uvicorn says it is listening only by this flag
                if task.done():
                    task.result()  # what stopped it, raised here
                    raise RuntimeError("the web server stopped before it started")
                await asyncio.sleep(0.01)
        except BaseException:
            await self._stop()
            sock.close()
            raise
        url_host = f"[{self._host}]" if ":" in self._host else self._host
        log.info("serving %s on http://%s:%d", self._serves, url_host, self.port)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stop()

    async def _stop(self) -> None:
        """Stop accepting, give open requests STOP_SECONDS, then close whatever is left, so
        the port is free when this returns."""
        server, task = self._server, self._task
        if server is None or task is None:
            return
        self._server = self._task = None
        server.should_exit = True  # uvicorn looks every 0.1 s, then shuts down (bounded)
        await asyncio.wait({task}, timeout=STOP_SECONDS + 1)
        if not task.done():
            log.warning("the web server did not stop within %gs: cancelled", STOP_SECONDS + 1)
            server.force_exit = True
            task.cancel()
            await asyncio.wait({task}, timeout=1)
        for listener in getattr(server, "servers", ()):  # set once uvicorn listens
            listener.close()
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("the web server failed", exc_info=task.exception())


class _Server(uvicorn.Server):
    """uvicorn's server without its signal handlers, which would take SIGINT and SIGTERM
    from the lifecycle (and raise them again when the server ends)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(host: str, port: int, hint: str) -> socket.socket:
    """A TCP socket listening on host:port (IPv6 when the host is an IPv6 address), or a
    ConfigError naming the address, the reason and `hint`. Listening here, not in uvicorn,
    so that another server taking the port meanwhile is this error too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # a restart may bind the port its predecessor's closed connections still wait on;
        # two servers listening on one port remains impossible (that is SO_REUSEPORT)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        raise ConfigError(f"server: cannot listen on {host}:{port} ({reason}); {hint}") from None
    return sock
