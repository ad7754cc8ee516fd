"""A document's prolog, reduced to an XML declaration so no parser ever reads a DTD or entity."""

from __future__ import annotations

import re

from monitor.ingest.encoding import wide_codec

# feedparser splits a document at the first "<" followed by an ASCII word character and reads
# DOCTYPE and ENTITY declarations anywhere before it, even inside comments and processing
# instructions; expat reads a DOCTYPE's internal subset. So the whole prolog is reduced to a
# clean XML declaration, and the root is found by a scanner that skips quoted strings,
# comments and internal subsets the way an XML parser does.
_ROOT = re.compile(r"<[A-Za-z0-9_]")
_DECL_STOP = re.compile(r"""["'\[\]<>]""")
# An XML declaration made of nothing but name="value" pairs (kept by defuse_doctype).
_XML_DECL = re.compile(r"""\s*(<\?xml(?:\s+[A-Za-z]+\s*=\s*(?:"[^"<>]*"|'[^'<>]*'))*\s*\?>)""")
UTF8_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'


def root_start(text: str) -> int | None:
    """Where the root element starts, skipping comments, PIs and declarations; None if absent."""
    i = 0
    n = len(text)
    while i < n:
        lt = text.find("<", i)
        if lt < 0 or _ROOT.match(text, lt):
            return None if lt < 0 else lt
        if text.startswith("<!--", lt):
            i = _after(text, "-->", lt + 4)
        elif text.startswith("<?", lt):
            i = _after(text, "?>", lt + 2)
        elif text.startswith("<!", lt):
            i = _declaration_end(text, lt + 2)
        else:
            i = lt + 1
    return None


def defused(text: str, *, declare_utf8: bool = True) -> str:
    """`text` with everything before the root element replaced by an XML declaration.

    With `declare_utf8` the declaration names UTF-8 (the caller encodes the result so);
    otherwise the original declaration is kept if it is well formed. Without a root element
    only the declaration is left: no scanner can then tell where a DOCTYPE would end.
    """
    start = root_start(text)
    body = "" if start is None else text[start:]
    if declare_utf8:
        return UTF8_DECLARATION + body
    declaration = _XML_DECL.match(text, 0, len(text) if start is None else start)
    return (declaration.group(1) + "\n" if declaration else "") + body


def defuse_doctype(body: bytes) -> bytes:
    """`body` in its own encoding (UTF-8, UTF-16/32 with or without BOM, or any ASCII-compatible
    charset) with its prolog's DOCTYPE, entity declarations, comments and PIs removed."""
    codec, bom_length = wide_codec(body) or ("latin-1", 0)
    if codec == "utf-8":  # after its BOM, UTF-8 is ASCII-compatible like the rest
        codec = "latin-1"  # latin-1 maps bytes to code points one to one: nothing is lost
    text = body[bom_length:].decode(codec, errors="replace")
    return body[:bom_length] + defused(text, declare_utf8=False).encode(codec)


def _after(text: str, end: str, start: int) -> int:
    found = text.find(end, start)
    return len(text) if found < 0 else found + len(end)


def _declaration_end(text: str, i: int) -> int:
    """The index after the ">" that closes a "<!" declaration, with its internal subset."""
    depth = 0
    while True:
        stop = _DECL_STOP.search(text, i)
        if stop is None:
            return len(text)
        char, i = stop.group(), stop.end()
        if char in "\"'":
            i = _after(text, char, i)
        elif char == "[":
            depth += 1
        elif char == "]":
            depth = max(depth - 1, 0)
        elif char == "<" and text.startswith("!--", i):
            i = _after(text, "-->", i + 3)
        elif char == "<" and text.startswith("?", i):
            i = _after(text, "?>", i + 1)
        elif char == ">" and depth == 0:
            return i
