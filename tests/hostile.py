"""A misbehaving HTTP server for the fetcher's tests (raw sockets on 127.0.0.1 only, one thread
per connection, every loop bounded, every response ending with the connection closed), and a
DNS resolver that says whatever a test wants."""

from __future__ import annotations

import socket
import struct
import threading
import zlib
from collections.abc import Callable
from email.utils import formatdate
from functools import cache
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult

DRIP_SECONDS = 0.25  # one byte this often on the drip routes
MAX_DRIP = 200  # bytes a drip route sends at most (50 s of dripping)
MAX_ENDLESS = 2 * 1024**3  # an "endless" body stops here, or when the client goes away
BOMB_SIZE = 1024**3  # the gzip bomb inflates to 1 GiB; about 1 MiB on the wire
RETRY_DATE = 1_800_000_000.0  # the Date of the 503 response; its Retry-After is 90 s later


@cache
def gzip_bomb() -> bytes:
    """A valid gzip stream of BOMB_SIZE zero bytes, built from one repeated deflate block (a
    full flush makes each block independent of the bytes before it)."""
    mib = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = deflate.compress(mib) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(BOMB_SIZE >> 20):
        crc = zlib.crc32(mib, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, BOMB_SIZE & 0xFFFFFFFF)
    return header + block * (BOMB_SIZE >> 20) + b"\x03\x00" + trailer  # 03 00: last, empty


class Exchange:
    """One accepted connection: the request line read, helpers to answer (or misbehave)."""

    def __init__(self, sock: socket.socket, server: HostileServer, target: str) -> None:
        self.sock = sock
        self.server = server
        parts = urlsplit(target)
        self.path = parts.path
        self.query = {k: v[0] for k, v in parse_qs(parts.query).items()}

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def head(self, status: str, headers: dict[str, str] | None = None) -> bytes:
        lines = [f"HTTP/1.1 {status}", "Connection: close", *_lines(headers or {})]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def answer(self, status: str, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send(self.head(status, {"Content-Length": str(len(body)), **(headers or {})}) + body)

    def drip(self, data: bytes) -> None:
        """Send `data` one byte every DRIP_SECONDS (at most MAX_DRIP bytes)."""
        for byte in data[:MAX_DRIP]:
            if self.server.stopping.wait(DRIP_SECONDS):
                return
            self.send(bytes([byte]))

    def stream(self, piece: bytes, *, chunked: bool = False) -> None:
        """Send `piece` again and again until the client leaves or MAX_ENDLESS bytes went."""
        frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece
        for _ in range(MAX_ENDLESS // len(piece)):
            if self.server.stopping.is_set():
                return
            self.send(frame)


def _lines(headers: dict[str, str]) -> list[str]:
    return [f"{name}: {value}" for name, value in headers.items()]


Route = Callable[[Exchange], None]
HTML = b"<html><body><p>A page the fetcher may read.</p></body></html>"


def _routes() -> dict[str, Route]:
    """Path → behaviour. Paths under /chain/N redirect N more times before answering."""
    html = {"Content-Type": "text/html; charset=utf-8"}
    small_gzip = zlib.compress(HTML, wbits=31)
    date = formatdate(RETRY_DATE, usegmt=True)
    return {
        "/ok": lambda x: x.answer("200 OK", HTML, html),
        "/gzip": lambda x: x.answer("200 OK", small_gzip, {**html, "Content-Encoding": "gzip"}),
        "/drip-body": lambda x: (
            x.send(x.head("200 OK", {"Content-Length": "200"})),
            x.drip(HTML * 4),
        ),
        "/drip-head": lambda x: x.drip(x.head("200 OK", {"X-Padding": "p" * 300})),
        "/silent": lambda x: x.server.stopping.wait(30) and None,
        "/endless": lambda x: (x.send(x.head("200 OK", html)), x.stream(b"a" * 65536)),
        "/endless-chunked": lambda x: (
            x.send(x.head("200 OK", {"Transfer-Encoding": "chunked"})),
            x.stream(b"a" * 65536, chunked=True),
        ),
        "/declares-huge": lambda x: x.send(x.head("200 OK", {"Content-Length": "10" * 6}) + b"x"),
        "/short-body": lambda x: x.send(
            x.head("200 OK", {"Content-Length": "1000"}) + b"only ten."
        ),
        "/long-body": lambda x: x.send(
            x.head("200 OK", {"Content-Length": "10"}) + b"0123456789" + b"z" * 1_000_000
        ),
        "/bomb": lambda x: x.answer("200 OK", gzip_bomb(), {**html, "Content-Encoding": "gzip"}),
        "/bad-gzip": lambda x: x.answer("200 OK", b"not gzip at all", {"Content-Encoding": "gzip"}),
        "/brotli": lambda x: x.answer("200 OK", b"\x1b\x03\x00", {"Content-Encoding": "br"}),
        "/loop-a": lambda x: x.answer("302 Found", headers={"Location": "/loop-b"}),
        "/loop-b": lambda x: x.answer("301 Moved Permanently", headers={"Location": "/loop-a"}),
        "/to": lambda x: x.answer("302 Found", headers={"Location": x.query["target"]}),
        "/no-location": lambda x: x.answer("302 Found"),
        "/retry-seconds": lambda x: x.answer(
            "429 Too Many Requests", headers={"Retry-After": "120"}
        ),
        "/retry-date": lambda x: x.answer(
            "503 Service Unavailable",
            headers={"Date": date, "Retry-After": formatdate(RETRY_DATE + 90, usegmt=True)},
        ),
        "/gone": lambda x: x.answer("410 Gone", b"gone for good"),
        "/not-found": lambda x: x.answer("404 Not Found"),
        "/broken": lambda x: x.answer("500 Internal Server Error"),
        "/malformed": lambda x: x.send(b"HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\nhi"),
        "/garbage": lambda x: x.send(b"\x00\x01\x02 this is not HTTP\r\n\r\n"),
        "/hangup": lambda x: None,
    }


class HostileServer:
    """Serves _routes() on 127.0.0.1:<free port>; records every request target it read."""

    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self.requests: list[str] = []
        self.stopping = threading.Event()
        self._routes = _routes()
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, name="hostile-accept")

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def __enter__(self) -> HostileServer:
        gzip_bomb()  # built before any client waits for it (a CRC over 1 GiB takes a while)
        self._accepting.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stopping.set()
        self._accepting.join(5)
        for thread in self._threads:
            thread.join(5)
        self._listener.close()

    def _accept(self) -> None:
        while not self.stopping.is_set():  # polls every 50 ms; ends with the fixture
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._serve, args=(sock,), name="hostile-conn")
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        with sock:
            sock.settimeout(5)
            try:
                target = self._read_request(sock)
                if target is None:
                    return
                self.requests.append(target)
                exchange = Exchange(sock, self, target)
                route = self._routes.get(exchange.path)
                if route is None and exchange.path.startswith("/chain/"):
                    route = _chain
                (route or (lambda x: x.answer("404 Not Found")))(exchange)
            except OSError:  # the client went away (the fetcher gave up): that is the point
                return

    @staticmethod
    def _read_request(sock: socket.socket) -> str | None:
        """The request target (path and query) of the head read, or None if it is no HTTP."""
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 65536:
            piece = sock.recv(4096)
            if not piece:
                return None
            if data + piece[:1] == b"\x16":  # a TLS ClientHello: answer in plain HTTP
                sock.sendall(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
                return None
            data += piece
        words = data.split(b"\r\n", 1)[0].split()
        return words[1].decode("latin-1") if len(words) == 3 else None


def _chain(x: Exchange) -> None:
    left = int(x.path.rsplit("/", 1)[1])
    if left <= 0:
        x.answer("200 OK", HTML, {"Content-Type": "text/html"})
    else:
        x.answer("307 Temporary Redirect", headers={"Location": f"/chain/{left - 1}"})


class FakeDNS(AbstractResolver):
    """Hostile DNS: names resolve to the addresses given; any other name does not resolve."""

    def __init__(self, names: dict[str, list[str]]) -> None:
        self.names = names

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in self.names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in self.names[host]
        ]

    async def close(self) -> None:
        return None
