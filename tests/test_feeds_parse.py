"""Feed documents to entries, from bytes: formats, identity, dates, encodings, autodiscovery,
size and speed. Hostile XML is in test_feeds_hostile_xml.py, real feeds in test_feeds_corpus.py."""

from __future__ import annotations

import codecs
import json
from datetime import UTC, datetime, timedelta

import pytest

from monitor.errors import FeedParseError
from monitor.ingest.discover import discover_feeds
from monitor.ingest.feeds import (
    FeedDocumentError,
    NotAFeed,
    body_fingerprint,
    defuse_doctype,
    parse_feed,
)
from monitor.models import Entry, WebPage
from tests.documents import feed_document

BASE = "https://news.example.org/feeds/rss.xml"
NOW = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


def rss_items(items: str, title: str = "T") -> bytes:
    return f'<rss version="2.0"><channel><title>{title}</title>{items}</channel></rss>'.encode()


def test_rss_entries_with_relative_links_and_dates() -> None:
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
    <item><title>One &amp; two</title><link>/a/1.html</link><guid>g1</guid>
      <pubDate>Mon, 02 Nov 2026 10:00:00 +0800</pubDate>
      <description>&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt;&lt;/p&gt;
        &lt;script&gt;x()&lt;/script&gt;</description></item>
    <item><title>No guid</title><link>https://other.example/b?utm_source=rss</link></item>
    <item><title>Nothing</title><description>only text</description></item>
    </channel></rss>"""
    parsed = feed_document(body, BASE, "application/rss+xml")
    assert (parsed.title, parsed.version, parsed.encoding) == ("T", "rss20", "utf-8 (utf-8)")
    first, second, third = parsed.entries
    assert first.link == "https://news.example.org/a/1.html"
    assert first.title == "One & two"
    assert first.summary == "Hello world"
    assert first.published_at == datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    assert second.guid == "https://other.example/b"  # canonical link: tracking query dropped
    assert second.link == "https://other.example/b?utm_source=rss"  # the link stays as written
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
    parsed = feed_document(xml.encode("gb18030"), "https://zh.example/atom", "application/atom+xml")
    [entry] = parsed.entries
    assert entry.title == "网信办发布新规"
    assert entry.summary == "防火长城"
    assert entry.guid == "urn:1"
    assert parsed.encoding == "gb18030 (prolog)"


def test_doctype_with_entities_is_removed_before_parsing() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<rss version="2.0"><channel><title>&b;</title><item><title>x</title>'
        b"<link>https://e.example/1</link></item></channel></rss>"
    )
    assert b"ENTITY" not in defuse_doctype(bomb)
    parsed = feed_document(bomb, BASE)
    assert "aaaaaaaaaa" not in (parsed.title or "")
    assert [e.link for e in parsed.entries] == ["https://e.example/1"]


def test_doctype_after_the_first_element_is_left_alone() -> None:
    body = b"<rss><!DOCTYPE x></rss>"
    assert defuse_doctype(body) == body


def test_netscape_rss_091_doctype_feed_still_parses() -> None:
    body = (
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<!DOCTYPE rss PUBLIC '
        b'"-//Netscape Communications//DTD RSS 0.91//EN" '
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        b'<rss version="0.91"><channel><title>Old</title><link>https://old.example/</link>'
        b"<item><title>Caf\xe9 &eacute;t\xe9</title><link>https://old.example/1</link></item>"
        b"</channel></rss>"
    )
    [entry] = feed_document(body, BASE).entries
    assert entry.title == "Café été"


def test_garbage_is_a_parse_error() -> None:
    with pytest.raises(FeedDocumentError, match="no feed could be read") as caught:
        feed_document(b"\x00\x01 definitely not xml <<<", BASE, "application/octet-stream")
    assert caught.value.category == "parse_error"
    assert not isinstance(caught.value, NotAFeed)
    assert isinstance(caught.value, FeedParseError)  # callers catching the old error still do


def test_a_guid_that_is_not_a_url_is_not_taken_for_the_link() -> None:
    body = rss_items(
        "<item><title>A</title><guid>g3</guid></item>"
        "<item><title>B</title><guid>https://e.example/b</guid></item>"
    )
    first, second = feed_document(body, BASE).entries
    assert (first.guid, first.link) == ("g3", None)
    assert (second.guid, second.link) == ("https://e.example/b", "https://e.example/b")


def test_out_of_range_character_references_do_not_fail_the_feed() -> None:
    body = rss_items(
        "<item><title>bad &#x110000; &#99999999999; &#xD800; &#0; ok &#x4e2d;</title>"
        "<link>https://e.example/1</link></item>"
    )
    [entry] = feed_document(body, BASE).entries
    assert entry.title == "bad \ufffd \ufffd \ufffd \ufffd ok 中"


# --- formats: the same item in every format gives the same Entry ------------------------

TITLE, LINK, SUMMARY = "网信办发布新规", "https://zh.example/a/1.html", "防火长城 &amp; more"
RFC822, ISO = "Mon, 02 Nov 2026 10:00:00 +0800", "2026-11-02T10:00:00+08:00"
FORMATS = {
    "rss091": f"""<rss version="0.91"><channel><title>F</title><link>https://zh.example/</link>
        <description>d</description><item><title>{TITLE}</title><link>{LINK}</link>
        <description>{SUMMARY}</description></item></channel></rss>""",
    "rss092": f"""<rss version="0.92"><channel><title>F</title><link>https://zh.example/</link>
        <item><title>{TITLE}</title><link>/a/1.html</link><description>{SUMMARY}</description>
        </item></channel></rss>""",
    "rss10": f"""<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
        xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
        <channel rdf:about="https://zh.example/"><title>F</title></channel>
        <item rdf:about="{LINK}"><title>{TITLE}</title><link>{LINK}</link>
        <description>{SUMMARY}</description><dc:date>{ISO}</dc:date></item></rdf:RDF>""",
    "rss20": f"""<rss version="2.0"><channel><title>F</title><item><title>{TITLE}</title>
        <link>{LINK}</link><guid>{LINK}</guid><pubDate>{RFC822}</pubDate>
        <description>{SUMMARY}</description></item></channel></rss>""",
    "atom10": f"""<feed xmlns="http://www.w3.org/2005/Atom"><title>F</title><entry>
        <title>{TITLE}</title><id>{LINK}</id><link rel="alternate" href="{LINK}"/>
        <published>{ISO}</published><summary type="html">{SUMMARY}</summary></entry></feed>""",
    "json11": json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "F",
            "items": [
                {
                    "id": LINK,
                    "url": "/a/1.html",
                    "title": TITLE,
                    "content_html": "防火长城 &amp; more",
                    "date_published": ISO,
                }
            ],
        }
    ),
}


@pytest.mark.parametrize("version", list(FORMATS))
def test_every_format_gives_the_same_entry(version: str) -> None:
    parsed = feed_document(FORMATS[version].encode(), "https://zh.example/feed", "")
    assert (parsed.title, parsed.version) == ("F", version.replace("rss091", "rss091u"))
    [entry] = parsed.entries
    dated = version in ("rss10", "rss20", "atom10", "json11")
    assert entry == Entry(
        guid=LINK,
        link=LINK,
        title=TITLE,
        summary="防火长城 & more",
        published_at=datetime(2026, 11, 2, 2, 0, tzinfo=UTC) if dated else None,
        content_hash=entry.content_hash,
    )
    assert (
        entry.content_hash == feed_document(FORMATS["rss20"].encode(), BASE).entries[0].content_hash
    )


def test_json_feed_details() -> None:
    feed = {
        "version": "https://jsonfeed.org/version/1",
        "title": "J",
        "items": [
            {"id": 42, "content_text": "numeric id", "date_published": "2026-11-02T10:00:00Z"},
            {"url": "https://j.example/x?utm_medium=feed", "title": "no id"},
            {"id": "dup", "title": "first"},
            {"id": "dup", "title": "second"},
            {"id": "z", "date_published": "not a date", "title": "bad date"},
            "not an object",
        ],
    }
    parsed = feed_document(json.dumps(feed).encode(), BASE, "application/feed+json")
    assert parsed.version == "json1"
    assert [(e.guid, e.title) for e in parsed.entries] == [
        ("42", ""),
        ("https://j.example/x", "no id"),
        ("dup", "first"),
        ("z", "bad date"),
    ]
    assert parsed.entries[0].published_at == datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    assert parsed.entries[3].published_at is None


def test_json_that_is_not_a_feed() -> None:
    with pytest.raises(NotAFeed) as caught:
        parse_feed(b'{"hello": "world"}', BASE, "application/json")
    assert caught.value.category == "not_a_feed"
    with pytest.raises(FeedDocumentError) as broken:
        feed_document(b'{"version": "https://jsonfeed.org/version/1.1", "items": [', BASE)
    assert broken.value.category == "parse_error"
    with pytest.raises(FeedDocumentError):
        feed_document(b"{" + b'"a":[' * 100_000, BASE)  # nesting too deep for json


# --- identity, duplicates, missing fields, dates ------------------------------------------


def test_identity_guid_else_canonical_link_else_title_and_date() -> None:
    def one(item: str) -> Entry:
        return feed_document(rss_items(f"<item>{item}</item>"), BASE).entries[0]

    dated = "<title>Same</title><pubDate>Mon, 02 Nov 2026 10:00:00 +0000</pubDate>"
    assert one(f"<guid>g-1</guid><link>https://e.example/1</link>{dated}").guid == "g-1"
    assert one("<link>HTTPS://E.example:443/1?utm_source=x#top</link>").guid == (
        "https://e.example/1"
    )
    first = one(f"{dated}<description>v1</description>")
    edited = one(f"{dated}<description>v2, edited</description>")
    other_day = one(
        "<title>Same</title><pubDate>Tue, 03 Nov 2026 10:00:00 +0000</pubDate>"
        "<description>v1</description>"
    )
    assert first.guid == edited.guid  # a summary edit keeps the identity …
    assert first.content_hash != edited.content_hash  # … and shows in the content hash
    assert first.guid != other_day.guid
    long_guid = one(f"<guid>{'g' * 5000}</guid>{dated}").guid
    assert long_guid.startswith("sha256:") and len(long_guid) == 71


def test_content_hash_sees_title_edits_not_whitespace() -> None:
    def one(title: str) -> Entry:
        item = f"<item><guid>g</guid><title>{title}</title><description>Body  text</description>"
        return feed_document(rss_items(item + "</item>"), BASE).entries[0]

    original, spaced, edited = one("Title"), one("  Title \n"), one("Title (updated)")
    assert original.guid == spaced.guid == edited.guid == "g"
    assert original.content_hash == spaced.content_hash
    assert original.content_hash != edited.content_hash
    assert original.content_hash is not None and len(original.content_hash) == 64


def test_duplicate_guids_keep_the_first_item() -> None:
    body = rss_items(
        "<item><guid>a</guid><title>first</title></item>"
        "<item><guid>b</guid><title>other</title></item>"
        "<item><guid>a</guid><title>second copy</title></item>"
        "<item><link>https://e.example/1?utm_source=a</link><title>x</title></item>"
        "<item><link>https://e.example/1</link><title>same canonical link</title></item>"
    )
    entries = feed_document(body, BASE).entries
    assert [(e.guid, e.title) for e in entries] == [
        ("a", "first"),
        ("b", "other"),
        ("https://e.example/1", "x"),
    ]


def test_items_missing_links_titles_dates_or_everything() -> None:
    body = rss_items(
        "<item><title>only a title</title></item>"
        "<item><link>https://e.example/only-link</link></item>"
        "<item><description>only a summary</description></item>"
        "<item><title></title><link></link><description></description>"
        "<pubDate>Mon, 02 Nov 2026 10:00:00 +0000</pubDate></item>"
        "<item><title>garbage date</title><pubDate>someday soon</pubDate></item>"
    )
    entries = feed_document(body, BASE).entries
    assert [(e.title, e.link, e.summary) for e in entries] == [
        ("only a title", None, ""),
        ("", "https://e.example/only-link", ""),
        ("", None, "only a summary"),
        ("garbage date", None, ""),
    ]  # the empty item is dropped: nothing to read or alert on
    assert all(e.published_at is None for e in entries)
    assert len({e.guid for e in entries}) == 4


def test_future_dates_are_clamped_to_now_and_marked() -> None:
    body = rss_items(
        "<item><guid>past</guid><title>p</title>"
        "<pubDate>Mon, 02 Nov 2026 10:00:00 +0000</pubDate></item>"
        "<item><guid>soon</guid><title>s</title>"
        "<pubDate>Tue, 03 Nov 2026 21:00:00 +0800</pubDate></item>"
        "<item><guid>years</guid><title>y</title>"
        "<pubDate>Thu, 01 Jan 2037 00:00:00 +0000</pubDate></item>"
    )
    past, soon, years = feed_document(body, BASE, now=NOW).entries
    assert (past.published_at, past.date_clamped) == (datetime(2026, 11, 2, 10, tzinfo=UTC), False)
    assert (soon.published_at, soon.date_clamped) == (NOW, True)
    assert (years.published_at, years.date_clamped) == (NOW, True)
    unclamped = feed_document(body, BASE).entries  # without `now` nothing reads a clock
    assert unclamped[2].published_at == datetime(2037, 1, 1, tzinfo=UTC)
    assert [e.guid for e in unclamped] == ["past", "soon", "years"]  # identity ignores `now`


# --- encodings ---------------------------------------------------------------------------

CHINESE = ["网信办发布新规：加强网络数据安全管理", "世界互联网大会在乌镇开幕", "防火长城与网络主权"]
TRADITIONAL = ["網信辦發布新規", "世界互聯網大會在烏鎮開幕", "防火長城與網絡主權"]
RUSSIAN = ["Роскомнадзор заблокировал сервис", "Новый закон о суверенном интернете"]
BODIES = {
    "gb18030": CHINESE,
    "gbk": CHINESE,
    "big5": TRADITIONAL,
    "koi8-r": RUSSIAN,
    "windows-1251": RUSSIAN,
}


def encoded_feed(titles: list[str], codec: str, declared: str | None) -> bytes:
    items = "".join(
        f"<item><title>{t}</title><link>https://e.example/{i}</link>"
        f"<description>{t}</description></item>"
        for i, t in enumerate(titles)
    )
    prolog = f'<?xml version="1.0" encoding="{declared}"?>\n' if declared else ""
    return prolog.encode("ascii") + rss_items(items, titles[0]).decode().encode(codec)


@pytest.mark.parametrize("codec", list(BODIES))
@pytest.mark.parametrize(
    ("declared", "header"),
    [
        (None, ""),  # no declaration, no header charset
        (None, "text/xml; charset=utf-8"),  # the server's default, wrong
        ("utf-8", ""),  # prolog wrong
        ("iso-8859-1", "text/xml; charset=iso-8859-1"),  # both wrong, and agreeing
        ("koi8-r", ""),  # another real charset, wrong
        ("RIGHT", "text/xml; charset=utf-8"),  # correct prolog, contradicting header
        ("RIGHT", "text/xml; charset=windows-1252"),
    ],
)
def test_titles_come_out_right_whatever_the_labels_say(
    codec: str, declared: str | None, header: str
) -> None:
    titles = BODIES[codec]
    body = encoded_feed(titles, codec, codec if declared == "RIGHT" else declared)
    parsed = feed_document(body, BASE, header)
    assert [e.title for e in parsed.entries] == titles
    assert parsed.title == titles[0]


def test_header_charset_alone_decides_when_the_bytes_agree() -> None:
    body = encoded_feed(RUSSIAN, "koi8-r", None)
    parsed = feed_document(body, BASE, "application/rss+xml; charset=KOI8-R")
    assert parsed.encoding == "koi8_r (header)"
    assert [e.title for e in parsed.entries] == RUSSIAN


def test_utf8_body_wins_over_a_wrong_header() -> None:
    body = encoded_feed(CHINESE, "utf-8", "utf-8")
    parsed = feed_document(body, BASE, "text/xml; charset=gbk")
    assert [e.title for e in parsed.entries] == CHINESE
    assert parsed.encoding == "utf-8 (utf-8)"


@pytest.mark.parametrize(
    ("codec", "bom", "label"),
    [
        ("utf-8", codecs.BOM_UTF8, "utf-8"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16"),
        ("utf-16-le", b"", "utf-16"),  # no BOM: recognised by the shape of "<?"
        ("utf-16-be", b"", "utf-16"),
        ("utf-32-le", codecs.BOM_UTF32_LE, "utf-32"),
        ("utf-32-be", b"", "utf-32"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-8"),  # the BOM beats a wrong declaration
    ],
)
def test_boms_and_wide_encodings(codec: str, bom: bytes, label: str) -> None:
    text = encoded_feed(CHINESE + RUSSIAN, "utf-8", label).decode()
    parsed = feed_document(bom + text.encode(codec), BASE, "text/xml; charset=iso-8859-1")
    assert [e.title for e in parsed.entries] == CHINESE + RUSSIAN


# --- autodiscovery -------------------------------------------------------------------------

PAGE = b"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>News</title>
<link rel="stylesheet" href="/s.css">
<link rel="alternate" type="application/rss+xml" title="RSS" href="/feed.xml">
<link rel="Alternate" type="Application/Atom+XML; charset=utf-8" href="atom.xml">
<link rel="alternate" type="application/feed+json" href="https://json.example/feed.json">
<link rel="alternate" type="text/html" hreflang="zh" href="/zh/">
<link rel="alternate stylesheet" type="text/css" href="/alt.css">
<link rel="alternate" type="application/rss+xml" href="/feed.xml">
<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
</head><body><p>Hello</p></body></html>"""


def test_discover_feeds_in_page_order_absolute_without_repeats() -> None:
    assert discover_feeds(PAGE, "https://news.example.org/section/page.html") == [
        "https://news.example.org/feed.xml",
        "https://news.example.org/section/atom.xml",
        "https://json.example/feed.json",
    ]


def test_discover_feeds_honours_base_href_and_survives_junk() -> None:
    page = (
        b'<html><head><base href="https://cdn.example/x/">'
        b'<link rel="alternate" type="application/rss+xml" href="rss"></head></html>'
    )
    assert discover_feeds(page, "https://news.example.org/") == ["https://cdn.example/x/rss"]
    assert discover_feeds(b"", "https://news.example.org/") == []
    assert discover_feeds(b"\x00\xff<<<", "https://news.example.org/") == []


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "application/rss+xml", ""])
def test_a_web_page_comes_back_with_its_alternates(content_type: str) -> None:
    page = parse_feed(PAGE, "https://news.example.org/", content_type)
    assert isinstance(page, WebPage)
    assert page.alternates[0] == "https://news.example.org/feed.xml"
    assert page.problem.startswith("https://news.example.org/: not a feed but a web page (")


def test_a_web_page_without_feed_links_is_not_a_feed() -> None:
    with pytest.raises(NotAFeed) as caught:
        parse_feed(b"<html><head><title>t</title></head></html>", BASE, "text/html")
    assert caught.value.category == "not_a_feed"
    assert str(caught.value) == f"{BASE}: not a feed but a web page (0 feed links found)"


def test_a_feed_served_as_text_html_is_still_a_feed() -> None:
    parsed = feed_document(rss_items("<item><title>x</title></item>"), BASE, "text/html")
    assert [e.title for e in parsed.entries] == ["x"]


# --- size and speed ------------------------------------------------------------------------


def big_feed(count: int) -> bytes:
    item = (
        "<item><title>Item {i} about internet governance</title><link>/a/{i}.html</link>"
        "<guid>g-{i}</guid><pubDate>Mon, 02 Nov 2026 10:00:00 +0800</pubDate>"
        "<description>&lt;p&gt;Summary {i} with &lt;b&gt;markup&lt;/b&gt;.&lt;/p&gt;"
        "</description></item>"
    )
    return rss_items("".join(item.format(i=i) for i in range(count)))


def test_fifty_items_with_markup_parse() -> None:
    parsed = feed_document(big_feed(50), BASE, now=NOW)
    assert len(parsed.entries) == 50
    assert parsed.entries[7].summary == "Summary 7 with markup."


@pytest.mark.slow
def test_ten_thousand_items_do_not_crash() -> None:
    # Measured ≈ 5–6 s here (feedparser ≈ 4 s of it): the reason for body_fingerprint and
    # for parsing large documents in the worker pool (benchmarks/changed.py measures it).
    parsed = feed_document(big_feed(10_000), BASE, now=NOW)
    assert len(parsed.entries) == 10_000
    assert parsed.entries[-1].link == "https://news.example.org/a/9999.html"


def test_body_fingerprint_tells_an_unchanged_body() -> None:
    body = big_feed(3)
    assert body_fingerprint(body) == body_fingerprint(bytes(body))
    assert body_fingerprint(body) != body_fingerprint(body.replace(b"Item 2", b"Item 3"))
    assert len(body_fingerprint(body)) == 64


def test_clamping_is_relative_to_the_given_now() -> None:
    body = rss_items(
        "<item><title>x</title><pubDate>Thu, 01 Jan 2099 00:00:00 +0000</pubDate></item>"
    )
    later = NOW + timedelta(days=365 * 80)
    assert feed_document(body, BASE, now=later).entries[0].date_clamped is False


def test_results_and_errors_cross_process_boundaries() -> None:
    """parse_feed may run in a worker process: its results and errors must pickle."""
    import pickle

    parsed = feed_document(FORMATS["rss20"].encode(), BASE, now=NOW)
    assert pickle.loads(pickle.dumps(parsed)) == parsed
    page = parse_feed(PAGE, "https://news.example.org/", "text/html")
    assert pickle.loads(pickle.dumps(page)) == page
    with pytest.raises(NotAFeed) as caught:
        parse_feed(b'{"hello": "world"}', BASE, "application/json")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (str(copy), copy.category) == (str(caught.value), "not_a_feed")


def test_control_and_direction_characters_never_come_in() -> None:
    """Titles and summaries lose terminal escapes, NULs and bidirectional overrides, written
    raw, as character references or as JSON escapes."""
    rss = rss_items(
        "<item><title>a&#27;]0;pwned&#7;b\u202ec</title>"
        "<description>&lt;p&gt;x&amp;#x1b;[2Jy\u2066z&lt;/p&gt;</description></item>"
    )
    [entry] = feed_document(rss, BASE).entries
    assert (entry.title, entry.summary) == ("a]0;pwnedbc", "x[2Jyz")
    json_feed = (
        '{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1",'
        ' "title": "T\\u0000i\\u001b[31mt\\u202ele", "content_text": "b\\u0085o\\u2069dy"}]}'
    )
    [item] = feed_document(json_feed.encode(), BASE).entries
    assert (item.title, item.summary) == ("Ti[31mtle", "body")
