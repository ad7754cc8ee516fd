"""Hand-written HTTP servers on 127.0.0.1 for tests that need behaviour pytest-httpserver
does not give: requests held open, answers that depend on earlier requests, several clients
at once. A test subclasses LoopbackServer for its state and QuietHandler for its answers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response


class LoopbackServer(ThreadingHTTPServer):
    """A thread per request, on a free port of 127.0.0.1; request threads never keep the
    test process alive."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)

    @property
    def port(self) -> int:
        port: int = self.server_address[1]
        return port

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook(self) -> str:
        """Its /hook as an Apprise json:// channel URL."""
        return f"json://127.0.0.1:{self.port}/hook"


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps the test output free of access-log lines."""

    def log_message(self, format: str, *args: object) -> None:
        pass


Server = TypeVar("Server", bound=LoopbackServer)


@contextmanager
def serving(
    server: Server, *, before_stop: Callable[[], object] = lambda: None
) -> Iterator[Server]:
    """Serve `server` in a thread for the block; `before_stop` frees requests the test may
    have left waiting, so stopping does not wait for them."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        before_stop()
        server.shutdown()
        server.server_close()


class SlowFeeds(LoopbackServer):
    """A feed server that takes `delay` seconds to answer each request, recording the paths
    asked for as requests arrive: polls are in flight when a test signals the service."""

    def __init__(self, delay: float = 20.0) -> None:
        super().__init__(_SlowFeed)
        self.delay = delay
        self.started: list[str] = []


class _SlowFeed(QuietHandler):
    server: SlowFeeds

    def do_GET(self) -> None:
        self.server.started.append(self.path)
        time.sleep(self.server.delay)
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.end_headers()
        self.wfile.write(b"<rss><channel><title>slow</title></channel></rss>")


def json_webhook(httpserver: HTTPServer, path: str = "/hook") -> tuple[str, list[dict[str, Any]]]:
    """An Apprise json:// channel URL served by `httpserver` at `path`, and the list where
    every payload it receives is kept (parsed)."""
    received: list[dict[str, Any]] = []

    def keep(request: Request) -> Response:
        received.append(json.loads(request.get_data()))
        return Response("ok")

    httpserver.expect_request(path, method="POST").respond_with_handler(keep)
    return httpserver.url_for(path).replace("http://", "json://"), received
