"""What runs inside an extraction worker process: trafilatura, the language identifier and the
MinHash signature. The pool (monitor.ingest.pool) imports this module only in its workers,
so the main process never loads trafilatura, numpy or the language model."""

from __future__ import annotations

import ctypes
import itertools
from collections.abc import Callable
from functools import cache
from typing import Any

import trafilatura

from monitor.ingest.language import detect_language
from monitor.ingest.minhash import signature
from monitor.models import Extracted
from monitor.profiles.normalize import printable

# The trafilatura options we ship, chosen by measuring (benchmarks/quality.py, 181 pages with
# human-written bodies): comments cause false hits; the deduplication cache is process-wide
# and silently drops pages seen before (and cost 0.009 F1); `fast` skips the fallback
# extractors: F1 0.960 -> 0.962 and 0.82x the CPU per page (LIBRARY-NOTES §3.2);
# `favor_recall` then: precision 0.946 -> 0.948, recall the same, 0.87-0.90x the CPU per page
# (8 of 181 pages differ).
TRAFILATURA_OPTIONS: dict[str, Any] = {
    "include_comments": False,
    "include_images": False,
    "deduplicate": False,
    "with_metadata": True,
    "fast": True,
    "favor_recall": True,
}


def extract_page(html: bytes, url: str) -> Extracted | None:
    """Extract in the calling process; None when the page holds no article text."""
    doc = trafilatura.bare_extraction(html, url=url, **TRAFILATURA_OPTIONS)
    if not isinstance(doc, trafilatura.settings.Document) or not doc.text or not doc.text.strip():
        return None
    return Extracted(
        text=printable(doc.text),
        title=_printable(doc.title),
        author=_printable(doc.author),
        sitename=_printable(doc.sitename),
        # in the worker, like the signature: the main process has the rest of the pipeline
        language=doc.language or detect_language(doc.text),
        date=doc.date,
        signature=signature(doc.text),
    )


def _printable(text: str | None) -> str | None:
    return printable(text) if text else text


def warm_up() -> None:
    """Load the language model when a worker starts (about a second), not in the first page's
    time limit."""
    detect_language("warm up the language identifier")


# glibc keeps the memory a parsed page freed inside the process's heap: after 500 pages a
# worker held 207 MB, 191 MB once malloc_trim(0) had returned the free pages (2.8 ms a call).
# A worker lives as long as the service, so every TRIM_EVERY pages it gives them back.
TRIM_EVERY = 20
_pages_done = itertools.count(1)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the C library has none (musl, macOS)."""
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def after_page() -> bool:
    """Called by the pool after each page: every TRIM_EVERY-th call returns the heap's free
    memory to the system. True when it did."""
    if next(_pages_done) % TRIM_EVERY or (trim := _malloc_trim()) is None:
        return False
    trim(0)
    return True
