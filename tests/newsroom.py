"""A small news site for end-to-end tests: an English RSS feed and a Chinese Atom feed with
their article pages, served by a real HTTP server (pytest-httpserver) on 127.0.0.1."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from pytest_httpserver import HTTPServer

SEED = Path(__file__).resolve().parent.parent.parent / "shared" / "seed"
SEED_FILE = SEED / "world-internet-conference-2014.txt"
SEED_TITLE = "World Internet Conference opens in Wuzhen amid censorship fears"

ZH_TITLE = "国家网信办发布网络安全审查新规"
ZH_PARAGRAPHS = [
    "国家互联网信息办公室（国家网信办）今天发布了新的网络安全审查办法，要求关键信息基础设施运营者"
    "在采购网络产品和服务时申报网络安全审查。",
    "分析人士指出，新规是中国《网络安全法》和《数据安全法》框架下的又一重要文件，体现了中国政府"
    "在网络空间治理方面坚持网络主权的一贯立场。",
    "与此同时，境外网站仍然受到防火长城的屏蔽，许多企业不得不使用经过批准的跨境专线来访问海外服务。"
    "观察人士认为，监管机构将继续加强对互联网内容的管理。",
    "网信办负责人表示，将在今年的世界互联网大会乌镇峰会上向各国介绍中国的互联网治理经验，"
    "并欢迎外国企业在遵守中国法律的前提下参与中国市场。",
]

UNRELATED_TITLE = "Local bakery wins regional bread award"
UNRELATED_TEXT = (
    "A family bakery in the market town has won the regional award for its sourdough loaf. "
    "The owners said the recipe had been handed down for three generations and that the "
    "secret lies in a long, cool fermentation. Judges praised the crust and the open crumb. "
) * 4


# Used where ../shared/seed is absent (a user's clone): our own text on the same events.
STAND_IN = """The World Internet Conference opened in Wuzhen on Wednesday, organised by the
Cyberspace Administration of China, the country's internet regulator.
Officials used the gathering to promote cyber sovereignty, the idea that each state should
govern the internet inside its borders as it sees fit.
Rights groups said the model being promoted is the one behind the Great Firewall, which
blocks foreign social networks and search engines across the mainland.
Business leaders from large technology firms attended panels on electronic commerce,
mobile payments and the security of critical information infrastructure.
Observers expect new rules on data and online content to follow the conference.
Several delegates asked how foreign companies could operate while complying with local law.
A researcher from a human-rights organisation called the event a showcase for control.
The three-day conference ends on Friday with a declaration read by the organisers.
"""


def seed_text() -> str:
    """The seed article the default profiles come from, or our stand-in when it is absent."""
    return SEED_FILE.read_text(encoding="utf-8") if SEED_FILE.exists() else STAND_IN


def article_page(title: str, paragraphs: list[str], lang: str = "en") -> str:
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>"
        '<nav><a href="/">Home</a> <a href="/world">World</a></nav>'
        f"<article><h1>{html.escape(title)}</h1>{body}</article>"
        "<footer>Copyright Example News. All rights reserved.</footer></body></html>"
    )


@dataclass(frozen=True)
class Newsroom:
    """URLs of what the site serves."""

    en_feed: str
    zh_feed: str
    seed_url: str
    zh_url: str
    old_url: str
    unrelated_url: str


def serve_newsroom(server: HTTPServer, now: datetime | None = None) -> Newsroom:
    """Register both feeds and four article pages on `server`."""
    now = now or datetime.now(UTC)
    seed_paragraphs = [p for p in seed_text().splitlines() if p.strip()]
    pages = {
        "/news/wic-opens.html": (SEED_TITLE, seed_paragraphs, "en"),
        "/news/old-gfw-story.html": (
            "Great Firewall blocks another foreign service",
            seed_paragraphs[8:10],
            "en",
        ),
        "/news/bakery.html": (UNRELATED_TITLE, [UNRELATED_TEXT], "en"),
        "/zh/wangxinban.html": (ZH_TITLE, ZH_PARAGRAPHS, "zh-CN"),
    }
    for path, (title, paragraphs, lang) in pages.items():
        server.expect_request(path).respond_with_data(
            article_page(title, paragraphs, lang), content_type="text/html; charset=utf-8"
        )
    base = server.url_for("/").rstrip("/")
    recent = format_datetime(now - timedelta(hours=2))
    old = format_datetime(now - timedelta(days=30))
    rss = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Example World News</title><link>{base}/</link>
<description>World news</description>
<item><title>{SEED_TITLE}</title><link>/news/wic-opens.html?utm_source=rss</link>
<guid>wic-opens</guid><pubDate>{recent}</pubDate><description>Conference opens.</description></item>
<item><title>Great Firewall blocks another foreign service</title>
<link>{base}/news/old-gfw-story.html</link><guid>old-gfw</guid><pubDate>{old}</pubDate></item>
<item><title>{UNRELATED_TITLE}</title><link>{base}/news/bakery.html</link>
<guid>bakery</guid><pubDate>{recent}</pubDate></item>
</channel></rss>"""
    atom = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>示例新闻</title><id>urn:example:zh</id>
<updated>{(now - timedelta(hours=1)).isoformat()}</updated>
<entry><title>{ZH_TITLE}</title><id>urn:example:zh:1</id>
<link href="{base}/zh/wangxinban.html"/><updated>{(now - timedelta(hours=1)).isoformat()}</updated>
<summary>网信办发布新规。</summary></entry></feed>"""
    server.expect_request("/feeds/world.xml").respond_with_data(
        rss, content_type="application/rss+xml; charset=utf-8"
    )
    server.expect_request("/feeds/zh.atom").respond_with_data(
        atom, content_type="application/atom+xml; charset=utf-8"
    )
    return Newsroom(
        en_feed=server.url_for("/feeds/world.xml"),
        zh_feed=server.url_for("/feeds/zh.atom"),
        seed_url=f"{base}/news/wic-opens.html",
        zh_url=f"{base}/zh/wangxinban.html",
        old_url=f"{base}/news/old-gfw-story.html",
        unrelated_url=f"{base}/news/bakery.html",
    )
