"""Every real feed document in ../shared/corpus/feeds parses without error and yields its items
(skipped, with the reason, where the corpus is absent: a user's clone has no ../shared)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.documents import feed_document

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"
ABSENT = f"feed corpus not found at {CORPUS} (only present beside the shared workspace)"
FILES = sorted(CORPUS.glob("*.xml")) if CORPUS.is_dir() else []
PARAMS = [pytest.param(path, id=path.name) for path in FILES] or [
    pytest.param(CORPUS, id="corpus", marks=pytest.mark.skip(reason=ABSENT))
]
# An item element of RSS 0.9x/1.0/2.0 or an Atom entry, with or without a namespace prefix.
_ITEM = re.compile(rb"<(?:\w+:)?(?:item|entry)[\s>]")
# Titles that only come out right when the declared charset is overruled by the bytes (the
# file says windows-1251 but is stored as UTF-8) or when no declaration is present.
EXPECTED_TITLES = {
    "ibash-org-ru__miniflux_v2__windows-1251__TRUNCATED-8-items.xml": "Цитата #17703",
    "heise-online__miniflux_v2__rdf-0.9-utf8.xml": "OLED-TVs: Vorsichtsmaßnahmen",
    "uol-noticias__rbren_rss-parser__no-xml-decl-pt-dates.xml": "Ibope: Bolsonaro perde",
}


def test_the_corpus_is_there() -> None:
    if not CORPUS.is_dir():
        pytest.skip(ABSENT)
    assert FILES, f"no *.xml in {CORPUS}"


@pytest.mark.parametrize("path", PARAMS)
def test_real_feed_parses(path: Path) -> None:
    body = path.read_bytes()
    parsed = feed_document(body, "https://feeds.example.org/feed.xml", "application/xml")
    items = len(_ITEM.findall(body))
    assert parsed.version, f"{path.name}: format not recognised"
    if items:
        assert parsed.entries, f"{path.name}: {items} items in the file, no entries parsed"
    # Only items with neither title, link nor summary are dropped.
    assert len(parsed.entries) <= items
    assert len(parsed.entries) >= items - 1
    assert all(e.guid and e.content_hash for e in parsed.entries)
    assert len({e.guid for e in parsed.entries}) == len(parsed.entries)
    assert all(e.link is None or e.link.startswith(("http://", "https://")) for e in parsed.entries)
    expected = EXPECTED_TITLES.get(path.name)
    if expected is not None:
        assert parsed.entries[0].title.startswith(expected)
        assert "\ufffd" not in " ".join(e.title + e.summary for e in parsed.entries)
