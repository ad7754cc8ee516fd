"""Feed documents to entries, from bytes: links, dates, GUIDs, entity defusing, encodings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.errors import FeedParseError
from monitor.ingest.feeds import defuse_doctype, parse_feed

BASE = "https://news.example.org/feeds/rss.xml"


def test_rss_entries_with_relative_links_and_dates() -> None:
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
    <item><title>One &amp; two</title><link>/a/1.html</link><guid>g1</guid>
      <pubDate>Mon, 02 Nov 2026 10:00:00 +0800</pubDate>
      <description>&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt;&lt;/p&gt;
        &lt;script&gt;x()&lt;/script&gt;</description></item>
    <item><title>No guid</title><link>https://other.example/b</link></item>
    <item><title>Nothing</title><description>only text</description></item>
    </channel></rss>"""
    parsed = parse_feed(body, BASE, "application/rss+xml")
    assert parsed.title == "T"
    first, second, third = parsed.entries
    assert first.link == "https://news.example.org/a/1.html"
    assert first.title == "One & two"
    assert first.summary == "Hello world"
    assert first.published_at == datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    assert second.guid == "https://other.example/b"
    assert second.published_at is None
    assert third.link is None
    assert third.guid.startswith("sha256:")


def test_atom_and_chinese_in_declared_gb18030() -> None:
    xml = """<?xml version="1.0" encoding="gb18030"?>
    <feed xmlns="http://www.w3.org/2005/Atom"><title>新闻</title>
    <entry><title>网信办发布新规</title><id>urn:1</id><link href="https://zh.example/1"/>
    <updated>2026-11-02T10:00:00+08:00</updated>
    <content type="html">&lt;p&gt;防火长城&lt;/p&gt;</content>
    </entry></feed>"""
    parsed = parse_feed(xml.encode("gb18030"), "https://zh.example/atom", "application/atom+xml")
    [entry] = parsed.entries
    assert entry.title == "网信办发布新规"
    assert entry.summary == "防火长城"
    assert entry.guid == "urn:1"


def test_doctype_with_entities_is_removed_before_parsing() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<rss version="2.0"><channel><title>&b;</title><item><title>x</title>'
        b"<link>https://e.example/1</link></item></channel></rss>"
    )
    assert b"ENTITY" not in defuse_doctype(bomb)
    parsed = parse_feed(bomb, BASE)
    assert "aaaaaaaaaa" not in (parsed.title or "")
    assert [e.link for e in parsed.entries] == ["https://e.example/1"]


def test_doctype_after_the_first_element_is_left_alone() -> None:
    body = b"<rss><!DOCTYPE x></rss>"
    assert defuse_doctype(body) == body


def test_not_a_feed_is_an_error() -> None:
    with pytest.raises(FeedParseError, match="not a feed"):
        parse_feed(b"\x00\x01 definitely not xml <<<", BASE, "application/octet-stream")


def test_a_guid_that_is_not_a_url_is_not_taken_for_the_link() -> None:
    body = (
        b'<rss version="2.0"><channel><title>T</title>'
        b"<item><title>A</title><guid>g3</guid></item>"
        b"<item><title>B</title><guid>https://e.example/b</guid></item>"
        b"</channel></rss>"
    )
    first, second = parse_feed(body, BASE).entries
    assert (first.guid, first.link) == ("g3", None)
    assert (second.guid, second.link) == ("https://e.example/b", "https://e.example/b")
