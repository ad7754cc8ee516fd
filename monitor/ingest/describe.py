"""An entry's own text described as a page's is (its language and near-duplicate
signature), without the extractor: what stands in for a page that cannot be used, even when
the extractor itself cannot be loaded."""

from __future__ import annotations

from monitor.ingest.language import detect_language
from monitor.ingest.minhash import signature


def describe_text(text: str) -> tuple[str | None, bytes | None]:
    """The language and the near-duplicate signature of a text (an entry's own, used when its
    page gave none): the same work extract_page does for a page's text."""
    return detect_language(text), signature(text)
