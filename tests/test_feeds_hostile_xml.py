"""Hostile XML: entity expansion and external entities are never resolved, whatever the
encoding (UTF-8 with or without BOM, UTF-16/32 with or without BOM). Every payload must
parse fast, with little memory, expand nothing, read no file and make no request."""

from __future__ import annotations

import codecs
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from monitor.errors import FeedParseError
from monitor.ingest.feeds import defuse_doctype
from monitor.models import ParsedFeed
from tests.documents import feed_document

BASE = "https://e.example/feed.xml"
PEAK_LIMIT = 16 * 1024 * 1024  # bytes of Python allocations while parsing (measured < 2 MB)
ITEM = (
    '<rss version="2.0"><channel><title>{ref}</title><item><title>x {ref}</title>'
    "<link>https://e.example/1</link><description>{ref}</description></item></channel></rss>"
)
BIG = "A" * 65_536


def laughs(separator: str) -> str:
    entities = ['<!ENTITY lol "lol">']
    previous = "lol"
    for level in range(1, 10):
        entities.append(f'<!ENTITY lol{level} "{f"&{previous};" * 10}">')
        previous = f"lol{level}"
    return separator.join(entities)


def with_doctype(label: str, subset: str, ref: str, item: str = ITEM) -> str:
    return f'<?xml version="1.0" encoding="{label}"?>\n<!DOCTYPE rss [{subset}]>\n' + item.format(
        ref=ref
    )


def quadratic(label: str) -> str:
    """~123 KB: one 64 KiB entity referenced 20,000 times (1.3 GB if expanded)."""
    item = ITEM.replace("<title>{ref}</title>", "<title>" + "&a;" * 20_000 + "</title>")
    return with_doctype(label, f'<!ENTITY a "{BIG}">', "&a;", item)


PAYLOADS: dict[str, Callable[[str], str]] = {
    "billion laughs, one entity per line": lambda label: with_doctype(
        label, "\n" + laughs("\n") + "\n", "&lol9;"
    ),
    "billion laughs, all on one line": lambda label: with_doctype(
        label, laughs(""), "&lol9;"
    ).replace("\n", ""),
    "quadratic blowup": quadratic,
    "XXE file:///etc/passwd": lambda label: with_doctype(
        label, '<!ENTITY xxe SYSTEM "file:///etc/passwd">', "&xxe;"
    ),
    "parameter entity, external DTD": lambda label: with_doctype(
        label, '<!ENTITY % ext SYSTEM "file:///etc/passwd"> %ext;', "&passwd;"
    ),
    # feedparser reads ENTITY declarations anywhere before the root, even in a comment or a
    # processing instruction, and expands them in its fallback parser; a harmless DOCTYPE
    # first used to satisfy a strip-the-first-DOCTYPE defence.
    "DOCTYPE hidden in a comment": lambda label: (
        f'<?xml version="1.0" encoding="{label}"?>\n<!DOCTYPE rss>\n<!--\n<!DOCTYPE rss [\n'
        f'<!ENTITY a "{BIG}">\n]>\n-->\n' + ITEM.format(ref="&a;" * 2000)
    ),
    "DOCTYPE hidden in a processing instruction": lambda label: (
        f'<?xml version="1.0" encoding="{label}"?>\n<!DOCTYPE rss>\n<?junk\n<!DOCTYPE rss [\n'
        f'<!ENTITY a "{BIG}">\n]> ?>\n' + ITEM.format(ref="&a;" * 2000)
    ),
    "]> inside an entity value": lambda label: with_doctype(
        label, f'<!ENTITY end "]>"><!ENTITY a "{BIG}">', "&a;" * 2000
    ),
}
ENCODINGS = {
    "utf-8": ("utf-8", b"", "utf-8"),
    "utf-8 BOM": ("utf-8", codecs.BOM_UTF8, "utf-8"),
    "utf-16-le BOM": ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16"),
    "utf-16-be no BOM": ("utf-16-be", b"", "utf-16"),
    "utf-32-le BOM": ("utf-32-le", codecs.BOM_UTF32_LE, "utf-32"),
}


def encode(payload: str, encoding: str) -> bytes:
    codec, bom, label = ENCODINGS[encoding]
    return bom + PAYLOADS[payload](label).encode(codec)


def measure(body: bytes) -> tuple[ParsedFeed, int]:
    """The parsed feed and the peak of Python allocations while parsing it (a parse that
    would expand entities without end fails at the per-test timeout)."""
    parsed = feed_document(body, BASE)
    tracemalloc.start()
    try:
        feed_document(body, BASE)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return parsed, peak


def output_chars(parsed: ParsedFeed) -> int:
    return len(parsed.title or "") + sum(len(e.title) + len(e.summary) for e in parsed.entries)


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("payload", list(PAYLOADS))
def test_payload_is_harmless(payload: str, encoding: str) -> None:
    body = encode(payload, encoding)
    parsed, peak = measure(body)
    assert peak < PEAK_LIMIT, f"{payload} / {encoding}: {peak / 2**20:.1f} MiB"
    assert output_chars(parsed) <= len(body)  # nothing expanded: no more text out than in
    assert [e.link for e in parsed.entries] == ["https://e.example/1"]  # the feed still reads
    texts = [parsed.title or ""] + [e.title + e.summary for e in parsed.entries]
    assert not any("lollol" in t or "AAAA" in t or "root:" in t for t in texts)


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_defuse_doctype_keeps_the_encoding_and_drops_every_declaration(encoding: str) -> None:
    codec, bom, _ = ENCODINGS[encoding]
    for payload in PAYLOADS:
        body = encode(payload, encoding)
        defused = defuse_doctype(body)
        assert defused.startswith(bom)
        text = defused[len(bom) :].decode(codec)
        head = text[: text.index("<rss")]
        assert "<!" not in head and "ENTITY" not in head, payload
        assert text.endswith("</rss>")


def test_no_file_is_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-7f3a", encoding="utf-8")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(f'<!ENTITY leak SYSTEM "{secret.as_uri()}">', encoding="utf-8")
    subsets = [
        f'<!ENTITY leak SYSTEM "{secret.as_uri()}">',
        f'<!ENTITY % ext SYSTEM "{dtd.as_uri()}"> %ext;',
    ]
    for subset in subsets:
        for line in ("\n", ""):
            body = with_doctype("utf-8", subset, "&leak;").replace("\n", line).encode()
            parsed = feed_document(body, BASE)
            assert "TOP-SECRET" not in repr(parsed)
    external = f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{dtd.as_uri()}">' + ITEM.format(
        ref="&leak;"
    )
    assert "TOP-SECRET" not in repr(feed_document(external.encode(), BASE))


def test_no_request_is_made(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/evil.dtd").respond_with_data(
        '<!ENTITY leak "FETCHED">', content_type="application/xml-dtd"
    )
    url = httpserver.url_for("/evil.dtd")
    documents = [
        with_doctype("utf-8", f'<!ENTITY % ext SYSTEM "{url}"> %ext;', "&leak;"),
        with_doctype("utf-8", f'<!ENTITY leak SYSTEM "{url}">', "&leak;"),
        f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{url}">' + ITEM.format(ref="&leak;"),
        f'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//X//Y" "{url}">' + ITEM.format(ref="x"),
    ]
    for document in documents:
        for codec, bom in (("utf-8", b""), ("utf-16-le", codecs.BOM_UTF16_LE)):
            parsed = feed_document(bom + document.encode(codec), BASE)
            assert "FETCHED" not in repr(parsed)
    assert httpserver.log == []


def test_an_unterminated_doctype_fails_cleanly() -> None:
    body = f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{BIG}' + ITEM.format(ref="&a;")
    with pytest.raises(FeedParseError):
        feed_document(body.encode(), BASE)
