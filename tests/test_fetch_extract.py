"""The HTTP fetcher and the extraction pool against real servers and real worker processes."""

from __future__ import annotations

import asyncio
import gzip
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import justext
import lxml_html_clean
import pytest
from lxml.html.clean import Cleaner
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from monitor.config.settings import ExtractSettings, FetchSettings
from monitor.errors import ExtractError, FetchBlocked, FetchStatus, FetchTimeout, FetchTooLarge
from monitor.ingest.describe import describe_text
from monitor.ingest.fetch import Fetcher
from monitor.ingest.fetch import Response as Response_
from monitor.ingest.language import _identifier
from monitor.ingest.pool import WorkerPool
from monitor.ingest.worker import extract_page
from monitor.models import Extracted
from tests.conftest import REPO, fresh_python
from tests.newsroom import article_page, seed_text, serve_newsroom


def _fetch(settings: FetchSettings, url: str, **kwargs: str) -> Response_:
    async def go() -> Response_:
        async with Fetcher(settings) as fetcher:
            return await fetcher.get(url, **kwargs)

    return asyncio.run(go())


def test_conditional_get_returns_not_modified(httpserver: HTTPServer) -> None:
    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(
            "<rss/>", headers={"ETag": '"v1"', "Last-Modified": "Mon, 02 Nov 2026 10:00:00 GMT"}
        )

    httpserver.expect_request("/feed").respond_with_handler(handler)
    first = _fetch(FetchSettings(), httpserver.url_for("/feed"))
    assert first.status == 200 and first.etag == '"v1"' and first.body == b"<rss/>"
    again = _fetch(FetchSettings(), httpserver.url_for("/feed"), etag='"v1"')
    assert again.not_modified and again.body == b""


def test_error_status_is_reported(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gone").respond_with_data("no", status=410)
    with pytest.raises(FetchStatus) as caught:
        _fetch(FetchSettings(), httpserver.url_for("/gone"))
    assert caught.value.status == 410
    assert caught.value.category == "gone"
    assert "/gone" in str(caught.value)


def test_a_feed_may_link_to_pages_on_its_own_origin(httpserver: HTTPServer) -> None:
    """A feed and its article pages on one loopback server: its links are same-origin."""
    httpserver.expect_request("/article.html").respond_with_data(
        "<p>ok</p>", content_type="text/html"
    )
    feed = httpserver.url_for("/feed.xml")
    page = _fetch(FetchSettings(), httpserver.url_for("/article.html"), origin=feed)
    assert page.status == 200 and page.body == b"<p>ok</p>"
    # the same server under another host name is another origin, and loopback is refused
    elsewhere = httpserver.url_for("/article.html").replace("localhost", "127.0.0.1")
    with pytest.raises(FetchBlocked) as caught:
        _fetch(FetchSettings(), elsewhere, origin=feed)
    assert caught.value.category == "blocked_address"


def test_body_cap_applies_after_decompression(httpserver: HTTPServer) -> None:
    bomb = gzip.compress(b"a" * 2_000_000)  # about 2 KB on the wire
    httpserver.expect_request("/bomb").respond_with_data(
        bomb, headers={"Content-Encoding": "gzip"}, content_type="text/html"
    )
    with pytest.raises(FetchTooLarge, match="limit of 100000 bytes") as caught:
        _fetch(FetchSettings(max_bytes=100_000), httpserver.url_for("/bomb"))
    assert caught.value.category == "too_large"


def test_slow_server_hits_the_deadline(httpserver: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(2)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    with pytest.raises(FetchTimeout) as caught:  # not the "late" answer after 2 s
        _fetch(FetchSettings(timeout=0.5, read_timeout=0.5), httpserver.url_for("/slow"))
    assert caught.value.category == "timeout"


Outcome = Extracted | ExtractError | None


def _extract(settings: ExtractSettings, pages: list[bytes]) -> list[Outcome]:
    async def go() -> list[Outcome]:
        results: list[Outcome] = []
        async with WorkerPool(settings) as pool:
            for page in pages:
                try:
                    results.append(await pool.extract(page, "https://news.example/a"))
                except ExtractError as exc:
                    results.append(exc)
        return results

    return asyncio.run(go())


def test_extraction_of_an_article_page() -> None:
    paragraphs = [p for p in seed_text().splitlines() if p.strip()]
    page = article_page("WIC opens", paragraphs).encode()
    [extracted] = _extract(ExtractSettings(workers=1), [page])
    assert isinstance(extracted, Extracted)
    assert "Wuzhen" in extracted.text
    assert "All rights reserved" not in extracted.text


def test_the_extraction_libraries_import_and_extract_a_page() -> None:
    """trafilatura imports jusText, which imports lxml.html.clean: since lxml 5.2 a shim over
    the separate lxml_html_clean, without which trafilatura does not import at all."""
    assert Cleaner is lxml_html_clean.Cleaner
    paragraphs = [p for p in seed_text().splitlines() if p.strip()]
    page = article_page("WIC opens", paragraphs).encode()
    kept = [p.text for p in justext.justext(page, justext.get_stoplist("English"))]
    assert any("Wuzhen" in text for text in kept)  # jusText's own pass, Cleaner included
    extracted = extract_page(page, "https://news.example/a")
    assert extracted is not None and "Wuzhen" in extracted.text


def test_lxml_html_clean_is_a_dependency_of_its_own() -> None:
    """jusText asks for lxml[html_clean]; the pip of Python 3.11 skips that extra, so the
    project names the package itself, pinned with the rest."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    names = {
        re.split(r"[\s<>=!~;\[]", d, maxsplit=1)[0] for d in project["project"]["dependencies"]
    }
    assert "lxml_html_clean" in names
    constraints = (REPO / "constraints.txt").read_text(encoding="utf-8")
    assert re.search(r"^lxml_html_clean==\S+$", constraints, re.M)


@pytest.mark.slow
def test_slow_page_is_abandoned_and_the_worker_replaced() -> None:
    huge = article_page(
        "Many paragraphs", [f"Paragraph number {i} of a long page." for i in range(20_000)]
    )
    normal = article_page("WIC opens", [p for p in seed_text().splitlines() if p.strip()])
    timed_out, after = _extract(
        ExtractSettings(workers=1, timeout=0.3), [huge.encode(), normal.encode()]
    )
    assert isinstance(timed_out, ExtractError) and "took over 0.3 s" in str(timed_out)
    assert isinstance(after, Extracted)
    assert "Wuzhen" in after.text


def test_oversized_page_is_refused_before_extraction() -> None:
    [refused] = _extract(
        ExtractSettings(workers=1, max_bytes=1000), [b"<p>" + b"x" * 5000 + b"</p>"]
    )
    assert isinstance(refused, ExtractError) and "exceeds the limit of 1000" in str(refused)


@pytest.mark.slow
def test_an_entry_text_is_described_in_a_worker_and_without_the_pool() -> None:
    text = seed_text()
    _identifier.cache_clear()  # the language model, as a fresh main process has it: unloaded

    async def go() -> tuple[tuple[str | None, bytes | None], bool, tuple[str | None, bytes | None]]:
        pool = WorkerPool(ExtractSettings(workers=1))
        async with pool:
            in_worker = await pool.describe(text)
            loaded_here = _identifier.cache_info().currsize > 0
        closed = await pool.describe(text)  # the pool is gone: described in this process
        return in_worker, loaded_here, closed

    in_worker, loaded_here, closed = asyncio.run(go())
    assert not loaded_here  # the worker identified the language, not this process
    assert in_worker == describe_text(text) == closed
    language, signature = in_worker
    assert language == "en" and signature is not None and len(signature) == 128 * 4


@pytest.mark.slow
def test_the_service_process_loads_no_extraction_library() -> None:
    """trafilatura, numpy and the language model are the workers' (about 15 MB of the main
    process's memory): importing the service and the CLI, and starting a pool, loads none."""
    code = (
        "import asyncio, sys\n"
        "import monitor.cli, monitor.runtime.service\n"
        "from monitor.ingest.pool import WorkerPool\n"
        "from monitor.config.settings import ExtractSettings\n"
        "async def go():\n"
        "    async with WorkerPool(ExtractSettings(workers=1)) as pool:\n"
        "        return await pool.extract(b'<html><body><p>' + b'Some words. ' * 50 + b'</p>',"
        " 'http://127.0.0.1/a')\n"
        "assert asyncio.run(go()) is not None\n"
        "heavy = ('trafilatura', 'numpy', 'py3langid', 'htmldate', 'justext')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    output = fresh_python(code)
    assert output == "[]"


def test_a_worker_returns_freed_memory_every_few_pages() -> None:
    """Memory freed by parsing stays in glibc's heap unless trimmed: after TRIM_EVERY pages the
    worker gives it back (a fragmented 200 MB heap, 1 block in 64 kept, shrinks here)."""
    code = (
        "import psutil\n"
        "from monitor.ingest.worker import TRIM_EVERY, after_page\n"
        "def rss():\n"
        "    return psutil.Process().memory_info().rss / 2**20\n"
        "blocks = [bytes(1000) + bytes([i % 256]) for i in range(200_000)]\n"
        "kept = blocks[::64]\n"
        "del blocks\n"
        "freed = rss()\n"
        "trimmed = [after_page() for _ in range(TRIM_EVERY)]\n"
        "print(freed, rss(), trimmed.count(True), trimmed[-1])\n"
    )
    output = fresh_python(code)
    freed, after, trims, last = output.split()
    assert (trims, last) == ("1", "True")  # once, on the TRIM_EVERY-th page
    assert float(freed) - float(after) > 100  # MB handed back


# --- an extractor that cannot be loaded -----------------------------------------------------

# A `trafilatura` found first on PYTHONPATH: while the file named by $SHIM_BROKEN exists it
# fails as a missing package does, otherwise it hands over to the real one.
_SHIM = """\
import os, sys
if os.path.exists(os.environ["SHIM_BROKEN"]):
    raise ModuleNotFoundError("No module named 'trafilatura'", name="trafilatura")
_here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
del sys.modules["trafilatura"]
import trafilatura  # noqa: E402  (the real one, which replaces this module)
sys.path.insert(0, _here)
"""


def _shimmed(tmp_path: Path, *, broken: bool) -> dict[str, str]:
    """The environment of a process whose workers find the shim before trafilatura."""
    (tmp_path / "shim" / "trafilatura").mkdir(parents=True)
    (tmp_path / "shim" / "trafilatura" / "__init__.py").write_text(_SHIM)
    flag = tmp_path / "broken"
    if broken:
        flag.touch()
    path = os.pathsep.join([str(tmp_path / "shim"), str(REPO)])
    return {**os.environ, "PYTHONPATH": path, "SHIM_BROKEN": str(flag)}


@pytest.mark.slow
def test_a_missing_extractor_refuses_to_start_in_one_line(
    tmp_path: Path, config_dir: Path, httpserver: HTTPServer
) -> None:
    """`monitor run --once` whose workers cannot import trafilatura: before, every page
    failed after a wait and the run ended 0 with the feed `ok`; now it stops before polling
    with one line naming the package, and a non-zero status."""
    site = serve_newsroom(httpserver)
    (config_dir / "feeds.yaml").write_text(f"feeds:\n  - url: {site.en_feed}\n")
    (config_dir / "monitor.yaml").write_text("extract:\n  workers: 1\n")
    ran = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config_dir), "run", "--once"],
        cwd=tmp_path,
        env={**_shimmed(tmp_path, broken=True), "MONITOR_CONFIG_DIR": ""},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert ran.stderr.splitlines() == [
        "error: extraction cannot start: the worker processes cannot import trafilatura "
        "(ModuleNotFoundError: No module named 'trafilatura'); install it in the service's "
        "Python environment (pip install trafilatura)"
    ]
    assert "Traceback" not in ran.stdout and "poll feed=" not in ran.stdout


@pytest.mark.slow
def test_an_extractor_lost_later_fails_pages_at_once_and_entries_are_described(
    tmp_path: Path,
) -> None:
    """The extractor imports at start, then a replaced worker cannot import it: the page
    fails at once as ExtractorUnavailable (the next ones without reaching a worker), and an
    entry's own text is still described."""
    page = article_page("WIC opens", [p for p in seed_text().splitlines() if p.strip()])
    huge = article_page("Many", [f"Paragraph number {i} of a long page." for i in range(20_000)])
    (tmp_path / "page.html").write_text(page)
    (tmp_path / "huge.html").write_text(huge)
    code = f"""
import asyncio, pathlib, os, time
from monitor.config.settings import ExtractSettings
from monitor.errors import ExtractorUnavailable, ExtractError
from monitor.ingest.pool import WorkerPool
here = pathlib.Path({str(tmp_path)!r})
PAGE, HUGE = (here / "page.html").read_bytes(), (here / "huge.html").read_bytes()
async def go():
    async with WorkerPool(ExtractSettings(workers=1, timeout=0.5)) as pool:
        print("before:", (await pool.extract(PAGE, "https://a/1")) is not None)
        pathlib.Path(os.environ["SHIM_BROKEN"]).touch()
        try:
            await pool.extract(HUGE, "https://a/huge")  # over the limit: the worker replaced
        except ExtractError as exc:
            print("huge:", type(exc).__name__)
        for n in (2, 3):
            started = time.monotonic()
            try:
                await pool.extract(PAGE, f"https://a/{{n}}")
            except ExtractorUnavailable as exc:
                print(f"page {{n}}:", exc.missing, time.monotonic() - started < 2)
        text = "The Great Firewall blocks another foreign news service this week. " * 20
        language, signature = await pool.describe(text)
        print("described:", language, signature is not None)
asyncio.run(go())
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=_shimmed(tmp_path, broken=False),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "before: True",
        "huge: ExtractError",
        "page 2: trafilatura True",
        "page 3: trafilatura True",
        "described: en True",
    ]
    assert done.stderr.count("extraction unavailable: the worker processes cannot import") == 1
