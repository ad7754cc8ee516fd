"""Every real article page of ../shared/corpus goes through our extraction stage without an
error (skipped where the corpus is absent, as in a user's clone)."""

from __future__ import annotations

import asyncio
import gzip

import pytest

from monitor.config.settings import ExtractSettings
from monitor.errors import ExtractError
from monitor.ingest.pool import WorkerPool
from monitor.models import Extracted
from tests.conftest import REPO

pytestmark = pytest.mark.slow  # processes, servers or whole cycles: `make test-quick` skips it

CORPUS = REPO.parent / "shared" / "corpus"


def _pages() -> list[tuple[str, bytes]]:
    pages = [
        (p.name, gzip.decompress(p.read_bytes()))
        for p in sorted((CORPUS / "extraction-benchmark" / "html").glob("*.html.gz"))
    ]
    pages += [
        (p.parent.name, p.read_bytes())
        for p in sorted((CORPUS / "readability-pages").glob("*/source.html"))
    ]
    return pages


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")
def test_every_corpus_page_extracts_without_error() -> None:
    pages = _pages()
    assert len(pages) > 200

    async def run() -> list[Extracted | None]:
        async with WorkerPool(ExtractSettings(workers=2, timeout=60)) as pool:
            return await asyncio.gather(
                *(pool.extract(html, f"https://example.org/{name}") for name, html in pages)
            )

    try:
        results = asyncio.run(run())
    except ExtractError as exc:  # pragma: no cover - the assertion is the point
        pytest.fail(f"extraction failed: {exc}")
    empty = [name for (name, _), r in zip(pages, results, strict=True) if r is None]
    assert len(empty) <= len(pages) // 50, empty  # at most 2 % of real articles without text
    with_text = [r for r in results if r is not None]
    assert all(r.text.strip() for r in with_text)
    assert sum(r.signature is not None for r in with_text) > 0.9 * len(with_text)
