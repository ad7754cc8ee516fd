"""A feed farm on 127.0.0.1 for the benchmarks: N RSS feeds × M entries, each entry linking to
a real article page from ../shared/corpus (synthetic pages when the corpus is absent), served
by aiohttp in its own process, optionally waiting `delay` seconds before every response (like
a distant server).

Each feed shows its M newest entries; `advance()` publishes one new entry on every feed (the
oldest drops off), so a poll after it sees a changed feed with one new entry. Feeds carry an
ETag: a poll with If-None-Match gets 304 until the feed changes. With `links=False` the
entries have no link (their text is in the feed), for fetch-parse-store comparisons.

    with Farm(FarmSpec(feeds=50, entries=20, delay=0.1)) as farm:
        farm.feed_urls          # the feed URLs
        farm.advance()          # one new entry per feed
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from types import TracebackType
from urllib.request import urlopen

from aiohttp import web

from benchmarks.common import REPO, corpus_pages

BASE_TIME = datetime(2026, 11, 1, tzinfo=UTC)
_WORDS = [
    "cyberspace",
    "administration",
    "internet",
    "governance",
    "firewall",
    "sovereignty",
    "regulator",
    "data",
    "security",
    "platform",
    "censorship",
    "conference",
    "wuzhen",
    "policy",
    "rules",
    "law",
    "network",
    "operators",
    "review",
    "export",
    "platforms",
    "users",
    "content",
    "algorithm",
    "license",
    "market",
    "foreign",
    "companies",
    "officials",
    "draft",
]


@dataclass(frozen=True, slots=True)
class FarmSpec:
    feeds: int = 20
    entries: int = 20
    delay: float = 0.0  # seconds before every response
    links: bool = True  # entries link to article pages (False: their text is in the feed)
    pages: int = 0  # corpus pages to cycle through (0: all)
    synthetic: bool = False  # synthetic pages even when the corpus is present


def distinct_text(feed: int, n: int, words: int = 80) -> str:
    """A text of its own for every (feed, entry): made-up words around the beat's vocabulary,
    so that no two entries look like copies of one story (as real feeds rarely do)."""
    rng = random.Random(feed * 1_000_003 + n)
    letters = "abcdefghiklmnoprstuvwyz"
    out = []
    for i in range(words):
        if i % 9 == 0:
            out.append(_WORDS[rng.randrange(len(_WORDS))])
        else:
            out.append("".join(rng.choice(letters) for _ in range(rng.randint(3, 9))))
    return " ".join(out)


def synthetic_page(number: int) -> bytes:
    """A plausible news page (~25 KB) for users without the corpus."""
    words = [_WORDS[(number * 7 + i * 13) % len(_WORDS)] for i in range(600)]
    paragraphs = "".join(
        f"<p>{' '.join(words[i : i + 60]).capitalize()}.</p>" for i in range(0, 600, 60)
    )
    nav = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(40))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Story {number}</title></head>"
        f"<body><nav><ul>{nav}</ul></nav><article><h1>Story {number} on internet governance</h1>"
        f"{paragraphs * 3}</article><footer>{'<p>footer links</p>' * 30}</footer></body></html>"
    ).encode()


class _State:
    def __init__(self, spec: FarmSpec) -> None:
        self.spec = spec
        pages = [] if spec.synthetic else [body for _, body in corpus_pages(spec.pages or None)]
        self.pages = pages or [synthetic_page(i) for i in range(max(spec.pages, 50))]
        self.offset = [0] * spec.feeds  # entries published on each feed beyond the first M
        self.requests = 0

    def etag(self, feed: int) -> str:
        return f'"{feed}-{self.offset[feed]}"'

    def feed(self, feed: int, base: str) -> bytes:
        spec = self.spec
        newest = self.offset[feed] + spec.entries - 1
        items = []
        for n in range(newest, newest - spec.entries, -1):
            when = format_datetime(BASE_TIME + timedelta(minutes=n))
            topic = f"{_WORDS[n % len(_WORDS)]} {_WORDS[(n + feed) % len(_WORDS)]}"
            title = f"Feed {feed} story {n}: {topic}"
            if spec.links:
                link = f"<link>{base}/a/{feed}/{n}.html</link>"
                summary = f"Summary of story {n} of feed {feed}."
            else:
                link = ""
                summary = distinct_text(feed, n)
            items.append(
                f"<item><title>{escape(title)}</title>{link}<guid isPermaLink='false'>"
                f"farm-{feed}-{n}</guid><pubDate>{when}</pubDate>"
                f"<description>{escape(summary)}</description></item>"
            )
        return (
            "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>Farm feed {feed}</title><link>{base}/</link>"
            f"<description>benchmark feed</description>{''.join(items)}</channel></rss>"
        ).encode()

    def page(self, feed: int, n: int) -> bytes:
        return self.pages[(feed * self.spec.entries + n) % len(self.pages)]  # all distinct first


def _app(state: _State) -> web.Application:
    async def pause() -> None:
        state.requests += 1
        if state.spec.delay:
            await asyncio.sleep(state.spec.delay)

    async def feed(request: web.Request) -> web.StreamResponse:
        await pause()
        number = int(request.match_info["feed"])
        etag = state.etag(number)
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        base = f"http://{request.host}"
        return web.Response(
            body=state.feed(number, base),
            content_type="application/rss+xml",
            headers={"ETag": etag},
        )

    async def page(request: web.Request) -> web.StreamResponse:
        await pause()
        body = state.page(int(request.match_info["feed"]), int(request.match_info["n"]))
        return web.Response(body=body, content_type="text/html")

    async def advance(request: web.Request) -> web.StreamResponse:
        by = int(request.query.get("by", "1"))
        state.offset = [o + by for o in state.offset]
        return web.Response(text="ok")

    async def stats(request: web.Request) -> web.StreamResponse:
        return web.json_response({"requests": state.requests})

    app = web.Application()
    app.router.add_get("/feeds/{feed}.xml", feed)
    app.router.add_get("/a/{feed}/{n}.html", page)
    app.router.add_post("/_control/advance", advance)
    app.router.add_get("/_control/stats", stats)
    return app


def _serve(spec: FarmSpec, port: int) -> None:
    async def main() -> None:
        runner = web.AppRunner(_app(_State(spec)), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
        await asyncio.Event().wait()

    asyncio.run(main())


class Farm:
    """The farm's server process (`python -m benchmarks.farm`), started on entering and
    stopped on leaving."""

    def __init__(self, spec: FarmSpec) -> None:
        self.spec = spec
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port: int = sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.feed_urls = [f"{self.base}/feeds/{i}.xml" for i in range(spec.feeds)]
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Farm:
        self._process = subprocess.Popen(  # noqa: S603  (our own interpreter and module)
            [
                sys.executable,
                "-m",
                "benchmarks.farm",
                json.dumps(asdict(self.spec)),
                str(self.port),
            ],
            cwd=REPO,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError("the feed farm exited at start-up")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        self._process.kill()
        raise RuntimeError("the feed farm did not start within 120 s")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def advance(self, by: int = 1) -> None:
        """Publish `by` new entries on every feed."""
        with urlopen(f"{self.base}/_control/advance?by={by}", data=b"") as answer:  # noqa: S310
            answer.read()

    def requests(self) -> int:
        """Requests the farm has answered so far."""
        with urlopen(f"{self.base}/_control/stats") as answer:  # noqa: S310
            return int(json.loads(answer.read())["requests"])


if __name__ == "__main__":
    _serve(FarmSpec(**json.loads(sys.argv[1])), int(sys.argv[2]))
