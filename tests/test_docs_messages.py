"""docs/alerts.md shows an e-mail and a chat message as they arrive: this test sends the same
alert through the real Apprise to a real SMTP server and a webhook receiver on 127.0.0.1, and
compares what arrived with the two blocks in the docs (so the docs cannot go stale)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import Message as Email

from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer

from monitor.alerts.compose import AlertItem
from monitor.alerts.deliver import Notifier
from monitor.alerts.render import Templates
from monitor.models import ChannelSpec, Hit
from tests.conftest import REPO, Mailbox
from tests.loopback import json_webhook

WHEN = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
URL = "https://news.example.org/2026/11/20/vpn-rules"
FIREWALL = Hit(
    profile="great_firewall",
    url=URL,
    title="Regulators tighten rules on VPN services",
    feed="Example Daily",
    published_at=WHEN,
    matched_terms=["Great Firewall", "VPN"],
    score=3.0,
    snippet="",
    snippets=["…users who climb the **Great Firewall** with a **VPN** now face…"],
    created_at=WHEN,
    language="en",
    profile_version="v1",
    article_id=7,
)
REGULATOR = Hit(
    profile="china_cyber_regulator",
    url=URL,
    title=FIREWALL.title,
    feed=FIREWALL.feed,
    published_at=WHEN,
    matched_terms=["Cyberspace Administration of China"],
    score=2.0,
    snippet="",
    snippets=["…the **Cyberspace Administration of China** said on Thursday…"],
    created_at=WHEN,
    language="en",
    profile_version="v1",
    article_id=7,
)
ITEM = AlertItem(
    FIREWALL,
    (("Wire Service", "https://wire.example.net/vpn"),),
    ref="alert-12+13",
    others=(REGULATOR,),
)


def _documented(marker: str) -> str:
    """The fenced block after `<!-- marker -->` in docs/alerts.md."""
    page = (REPO / "docs" / "alerts.md").read_text(encoding="utf-8")
    found = re.search(rf"<!-- {marker} -->\s*```\w*\n(.*?)```", page, re.S)
    assert found, f"docs/alerts.md has no block marked {marker}"
    return found.group(1)


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip().splitlines()]


def _plain_part(mail: Email) -> str:
    for part in mail.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no plain-text part in the e-mail")


def test_the_documented_email_is_what_arrives(smtp_server: tuple[Controller, Mailbox]) -> None:
    controller, mailbox = smtp_server
    url = f"mailto://127.0.0.1:{controller.port}?from=monitor@example.org&to=analyst@example.org"
    channel = ChannelSpec("mail", url, throttle=0)
    notifier = Notifier()
    notifier.send(channel, Templates().alert(ITEM, notifier.format_for(channel), "Asia/Shanghai"))
    [mail] = mailbox.messages
    arrived = f"Subject: {mail['Subject']}\n\n{_plain_part(mail)}"
    assert _lines(arrived) == _lines(_documented("e-mail as it arrives")), arrived


def test_the_documented_chat_message_is_what_arrives(httpserver: HTTPServer) -> None:
    url, received = json_webhook(httpserver)
    channel = ChannelSpec("chat", url, format="markdown")
    Notifier().send(channel, Templates().alert(ITEM, "markdown", "Asia/Shanghai"))
    [payload] = received
    arrived = f"{payload['title']}\n\n{payload['message']}"
    assert _lines(arrived) == _lines(_documented("chat message as it arrives")), arrived
