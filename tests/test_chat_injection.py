"""A feed's text in people's chats: no live links, images or mentions of its making, no
direction overrides or control characters, in the title as in the body, in every format; and
services that render Markdown though Apprise sends them text get the escaped Markdown. The
messages go through the real Apprise to receivers on 127.0.0.1."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pytest_httpserver import HTTPServer

from monitor.alerts.compose import FORMATS, AlertItem, Format
from monitor.alerts.deliver import Notifier
from monitor.alerts.render import Templates
from monitor.models import ChannelSpec, Hit
from tests.loopback import json_webhook

PHISH = "[Click here](http://evil.example/phish) @everyone ![px](http://evil.example/px.png)"
OVERRIDE = "\u202e"  # RIGHT-TO-LEFT OVERRIDE
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HIT = Hit(
    profile="gfw",
    url="https://news.example.org/story/1",
    title=f"{PHISH} {OVERRIDE}gpj.exe",
    feed="Feed @here <@123456> <!channel>",
    published_at=NOW,
    matched_terms=["@channel", "VPN"],
    score=1.0,
    snippet="",
    snippets=[f"ping **@everyone** and <@&987> \x1b]0;pwned\x07 {PHISH}"],
    created_at=NOW,
    language="en",
    profile_version="v1",
    matched_on="entry",
    note="[x](http://evil.example/note) @here",
)
# A Markdown link or image whose bracket is not escaped: [label](target) or ![alt](target).
LIVE_LINK = re.compile(r"(?<!\\)!?\[(?:\\.|[^\]\\])*\]\((?P<target>[^)\s]+)\)")
MENTIONS = ("@everyone", "@here", "@channel", "<@123456>", "<@&987>", "<!channel>")


def _rendered(fmt: Format) -> tuple[str, str]:
    message = Templates().alert(AlertItem(HIT, (("Outlet @all", "https://b.example/x"),)), fmt)
    return message.title, message.body


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_mention_override_or_control_character_survives_any_format(fmt: Format) -> None:
    title, body = _rendered(fmt)
    for text in (title, body):
        assert not any(mention in text for mention in MENTIONS), text
        assert OVERRIDE not in text and "\x1b" not in text and "\x07" not in text


def test_markdown_bodies_link_only_where_the_monitor_links() -> None:
    _, body = _rendered("markdown")
    targets = {m.group("target") for m in LIVE_LINK.finditer(body)}
    assert targets == {HIT.url, "https://b.example/x"}  # the story and its other outlet
    assert "evil.example" in body  # the feed's text is shown, as text


def test_a_webhook_gets_the_title_as_a_plain_field(httpserver: HTTPServer) -> None:
    """A generic JSON webhook carries the title in its own field: plain text (no mention,
    no override), not Markdown-escaped; the Markdown body links only where we link."""
    url, received = json_webhook(httpserver)
    message = Templates().alert(AlertItem(HIT), "markdown")
    Notifier().send(ChannelSpec("hook", url, format="markdown"), message)
    [payload] = received
    assert payload["title"] == message.title and payload["title"].startswith("[gfw] [Click")
    assert "@everyone" not in payload["title"] and OVERRIDE not in payload["title"]
    assert {m["target"] for m in LIVE_LINK.finditer(payload["message"])} == {HIT.url}


def test_mattermost_gets_escaped_markdown_not_raw_text(httpserver: HTTPServer) -> None:
    """Mattermost (like Zulip) renders Markdown in what Apprise sends as plain text."""
    _, received = json_webhook(httpserver, "/hooks/tok")  # Mattermost posts JSON there
    channel = ChannelSpec("team", f"mmost://127.0.0.1:{httpserver.port}/tok")
    notifier = Notifier()
    fmt = notifier.format_for(channel)
    assert fmt == "markdown"
    notifier.send(channel, Templates().alert(AlertItem(HIT), fmt))
    [payload] = received
    text = payload["text"]  # Mattermost has no title field: Apprise heads the body with it
    assert text.startswith("\\[gfw\\] \\[Click here\\]")
    assert {m["target"] for m in LIVE_LINK.finditer(text)} == {HIT.url}
    assert not any(mention in text for mention in MENTIONS)


def test_an_html_title_is_escaped_only_where_it_becomes_part_of_the_body() -> None:
    from monitor.alerts.compose import Message
    from monitor.alerts.deliver import _title_for

    class Blends:  # a service without a title field: Apprise writes <b>title</b> in the body
        title_maxlen = 0

    class Subject:  # e-mail: the title is the Subject, plain text
        title_maxlen = 250

    message = Message("<img src=x onerror=alert(1)> & Co", "<p>body</p>", "html")
    assert _title_for(message, [Blends()]) == "&lt;img src=x onerror=alert(1)&gt; &amp; Co"
    assert _title_for(message, [Subject()]) == message.title
    markdown = replace(message, format="markdown", title="[x](http://evil.example)")
    assert LIVE_LINK.search(_title_for(markdown, [Subject()])) is None
