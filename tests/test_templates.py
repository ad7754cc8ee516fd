"""Message templates: what every format shows, escaping, time zones, user overrides and how
their mistakes are reported (check) or survived (fallback to the built-in)."""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.alerts.compose import FORMATS, AlertItem, Digest, DigestGroup, Format, Notice
from monitor.alerts.filters import FILTERS, md_marked, plural, web_url, when
from monitor.alerts.render import NAMES, Templates
from monitor.alerts.sandbox import RENDER_STEPS
from monitor.errors import ConfigError
from monitor.models import Hit
from tests.conftest import REPO

PUBLISHED = datetime(2026, 11, 27, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai


def _hit(**changes: object) -> Hit:
    hit = Hit(
        profile="gfw",
        url="https://news.example.org/story/1",
        title="Regulator tightens VPN rules",
        feed="Example Daily",
        published_at=PUBLISHED,
        matched_terms=["VPN", "翻墙"],
        score=2.0,
        snippet="…the **VPN** rules…",
        snippets=["…new **VPN** rules for firms…", "…users who **翻墙** face…"],
        created_at=PUBLISHED,
        language="en",
        profile_version="v1",
    )
    return replace(hit, **changes)  # type: ignore[arg-type]


def _outlets(count: int) -> tuple[tuple[str, str], ...]:
    return tuple((f"Outlet {n}", f"https://outlet{n}.example.net/a") for n in range(count))


def _digest(*groups: DigestGroup, **changes: object) -> Digest:
    digest = Digest(
        schedule="daily",
        reason="schedule",
        period_start=datetime(2026, 11, 26, 0, 0, tzinfo=UTC),
        period_end=datetime(2026, 11, 27, 0, 0, tzinfo=UTC),
        timezone="UTC",
        groups=groups,
    )
    return replace(digest, **changes)  # type: ignore[arg-type]


def _override(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "config" / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


# ---- what an alert shows ----


@pytest.mark.parametrize("fmt", FORMATS)
def test_alert_shows_every_required_piece(fmt: Format) -> None:
    hit = _hit(matched_on="entry", note="page not used: timeout")
    item = AlertItem(hit=hit, also=(("Other Paper", "https://other.example.com/x"),), ref="alert-7")
    message = Templates().alert(item, fmt, tz="Asia/Shanghai")
    body = message.body
    assert message.format == fmt
    assert message.title == "[gfw] Regulator tightens VPN rules"
    for piece in ("gfw", "Example Daily", "2026-11-27 09:30 CST", "en", "翻墙", "Other Paper"):
        assert piece in body, (fmt, piece)
    assert "title and summary" in body
    assert "page not used: timeout" in body
    assert "ref alert-7" in body
    if fmt == "markdown":
        assert "[Regulator tightens VPN rules](https://news.example.org/story/1)" in body
        assert "**VPN** rules for firms" in body
        assert "users who **翻墙** face" in body
        assert "[Other Paper](https://other.example.com/x)" in body
    elif fmt == "html":
        assert '<a href="https://news.example.org/story/1">Regulator tightens VPN rules</a>' in body
        assert "new <strong>VPN</strong> rules" in body
        assert "<strong>翻墙</strong>" in body
        assert '<a href="https://other.example.com/x">Other Paper</a>' in body
    else:
        assert "Regulator tightens VPN rules\nhttps://news.example.org/story/1\n" in body
        assert "**VPN** rules for firms" in body
        assert "https://other.example.com/x" in body


@pytest.mark.parametrize("fmt", FORMATS)
def test_alert_without_optional_facts(fmt: Format) -> None:
    hit = _hit(published_at=None, language=None, snippets=[], snippet="", title="Bare")
    body = Templates().alert(AlertItem(hit=hit), fmt).body
    assert "date unknown" in body
    assert "title and summary" not in body
    assert "ref " not in body
    assert "Also carried" not in body


@pytest.mark.parametrize("fmt", FORMATS)
def test_single_snippet_is_used_when_the_list_is_empty(fmt: Format) -> None:
    body = Templates().alert(AlertItem(hit=_hit(snippets=[])), fmt).body
    marked = "<strong>VPN</strong>" if fmt == "html" else "**VPN**"
    assert f"…the {marked} rules…" in body


@pytest.mark.parametrize("fmt", FORMATS)
def test_other_outlets_are_cut_at_ten(fmt: Format) -> None:
    body = Templates().alert(AlertItem(hit=_hit(), also=_outlets(13)), fmt).body
    assert "Outlet 9" in body
    assert "Outlet 10" not in body
    assert "and 3 more" in body


def test_times_are_shown_in_the_given_zone() -> None:
    templates = Templates()
    item = AlertItem(hit=_hit())
    assert "2026-11-27 01:30 UTC" in templates.alert(item, "text").body
    assert "2026-11-27 09:30 CST" in templates.alert(item, "text", tz="Asia/Shanghai").body
    assert "2026-11-26 20:30 EST" in templates.alert(item, "text", tz="America/New_York").body
    naive = AlertItem(hit=_hit(published_at=datetime(2026, 11, 27, 1, 30)))
    assert "2026-11-27 09:30 CST" in templates.alert(naive, "text", tz="Asia/Shanghai").body


# ---- escaping ----


def test_html_escapes_everything_from_feeds_but_marks_matches() -> None:
    hit = _hit(
        title="<script>alert('x')</script> & \"quoted\"",
        feed='Evil & "Co" <b>',
        url='https://evil.example/a?b=1&c="><script>',
        snippets=["<script>steal()</script> the **VPN** & more"],
    )
    also = (("<i>Outlet</i> & co", "javascript:alert(1)"),)
    body = Templates().alert(AlertItem(hit=hit, also=also), "html").body
    assert "<script>" not in body
    assert "<b>" not in body
    assert "<i>" not in body
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;quoted&#34;" in body
    assert "Evil &amp; &#34;Co&#34; &lt;b&gt;" in body
    assert "&lt;script&gt;steal()&lt;/script&gt; the <strong>VPN</strong> &amp; more" in body
    assert 'href="https://evil.example/a?b=1&amp;c=%22%3E%3Cscript%3E"' in body
    assert "javascript:" not in body
    assert "&lt;i&gt;Outlet&lt;/i&gt; &amp; co" in body


def test_markdown_link_survives_brackets_in_the_title() -> None:
    hit = _hit(title="Leak [exclusive] of *draft* rules", url="https://x.example/a_(b)")
    also = (("Paper [Beijing]", "https://p.example/1"),)
    body = Templates().alert(AlertItem(hit=hit, also=also), "markdown").body
    label = r"Leak \[exclusive\] of \*draft\* rules"
    assert f"[{label}](https://x.example/a_%28b%29)" in body
    assert r"[Paper \[Beijing\]](https://p.example/1)" in body
    # a CommonMark link: the label has no unescaped bracket, the destination no space or paren
    links = re.findall(r"\[((?:\\.|[^\[\]\\])*)\]\(([^\s()]+)\)", body)
    assert (label, "https://x.example/a_%28b%29") in links


def test_markdown_snippets_are_escaped_but_keep_their_marks() -> None:
    assert md_marked("a [link](x) <b> **VPN** *x*") == r"a \[link\](x) \<b\> **VPN** \*x\*"
    body = Templates().alert(AlertItem(hit=_hit(snippets=["see <b>**VPN**</b>"])), "markdown").body
    assert r"see \<b\>**VPN**\</b\>" in body


def test_title_is_one_short_line() -> None:
    hit = _hit(title="Line one\n\n  line   two " + "x" * 400)
    title = Templates().alert(AlertItem(hit=hit), "html").title
    assert "\n" not in title
    assert title.startswith("[gfw] Line one line two xxx")
    assert len(title) <= 250
    assert title.endswith("…")


# ---- digests and notices ----


@pytest.mark.parametrize("fmt", FORMATS)
def test_digest_groups_items_by_profile(fmt: Format) -> None:
    first = AlertItem(hit=_hit(), also=_outlets(12))
    second = AlertItem(hit=_hit(profile="censorship", title="Second story", snippets=[]))
    digest = _digest(
        DigestGroup("gfw", (first,)),
        DigestGroup("censorship", (second, second)),
        timezone="Asia/Shanghai",
    )
    message = Templates().digest(digest, fmt)
    assert message.title == "[monitor] Daily digest: 3 hits in 2 profiles"
    body = message.body
    assert "2026-11-26 08:00 CST – 2026-11-27 08:00 CST" in body
    assert "2026-11-27 09:30 CST" in body
    assert body.index("gfw") < body.index("censorship")
    assert "Also carried by 12" in body
    assert "and 2 more" in body
    assert "Outlet 10" not in body
    assert ("<strong>VPN</strong>" if fmt == "html" else "**VPN**") in body
    assert "users who" not in body  # one snippet per item in a digest
    if fmt == "markdown":
        assert "[Second story](https://news.example.org/story/1)" in body
    if fmt == "html":
        assert '<a href="https://news.example.org/story/1">Second story</a>' in body


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_digest_says_so(fmt: Format) -> None:
    message = Templates().digest(_digest(), fmt)
    assert message.title == "[monitor] Daily digest: no hits"
    assert "No hits in this period." in message.body


@pytest.mark.parametrize("fmt", FORMATS)
def test_debounce_digest_explains_itself(fmt: Format) -> None:
    group = DigestGroup("gfw", (AlertItem(hit=_hit()),))
    digest = _digest(group, reason="debounce", schedule="debounce", period_start=None)
    message = Templates().digest(digest, fmt)
    assert message.title == "[monitor] Alert limit passed: 1 more hit for gfw"
    assert "passed its instant-alert limit" in message.body
    assert "rest of the window" in message.body
    assert "until 2026-11-27 00:00 UTC" in message.body


@pytest.mark.parametrize("fmt", FORMATS)
def test_notice_keeps_its_lines(fmt: Format) -> None:
    notice = Notice("Feed failing: A <b>", "Line one\nline two <x> & y.\n\nNext.", "test", "n-3")
    message = Templates().notice(notice, fmt)
    assert message.title == "[monitor] Feed failing: A <b>"
    assert "ref n-3" in message.body
    if fmt == "html":
        assert "<p>Line one<br>\nline two &lt;x&gt; &amp; y.</p>\n<p>Next.</p>" in message.body
    elif fmt == "markdown":
        assert "Line one\nline two \\<x\\> \\& y.\n\nNext." in message.body
    else:
        assert "Line one\nline two <x> & y.\n\nNext." in message.body


# ---- overrides ----


def test_builtin_templates_pass_their_own_check(tmp_path: Path) -> None:
    Templates().check()
    Templates(tmp_path / "no-such-folder").check()


def test_override_replaces_only_its_own_template(tmp_path: Path) -> None:
    folder = _override(tmp_path, "alert.text.j2", "Custom: {{ hit.title | upper }} ({{ tz }})\n")
    templates = Templates(folder)
    templates.check()
    item = AlertItem(hit=_hit())
    assert (
        templates.alert(item, "text", tz="UTC").body == "Custom: REGULATOR TIGHTENS VPN RULES (UTC)"
    )
    assert "**VPN** rules" in templates.alert(item, "markdown").body
    assert templates.alert(item, "text").title == "[gfw] Regulator tightens VPN rules"


def test_override_can_extend_the_builtin(tmp_path: Path) -> None:
    text = (
        '{% extends "builtin/alert.html.j2" %}\n'
        "{% block footer %}<p>Team {{ ref }}</p>{% endblock %}\n"
    )
    templates = Templates(_override(tmp_path, "alert.html.j2", text))
    templates.check()
    body = templates.alert(AlertItem(hit=_hit(title="A & B"), ref="r<1>"), "html").body
    assert "<p>Team r&lt;1&gt;</p>" in body
    assert "A &amp; B" in body


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    folder = _override(tmp_path, "digest.markdown.j2", "Digest\n{{ total }}\n{% if %}\n")
    with pytest.raises(ConfigError) as caught:
        Templates(folder).check()
    assert f"{folder / 'digest.markdown.j2'}:3: template syntax error" in str(caught.value)
    assert caught.value.line == 3


def test_undefined_variable_names_file_and_line(tmp_path: Path) -> None:
    folder = _override(
        tmp_path, "notice.html.j2", "<p>{{ notice.body }}</p>\n{{ notice.severity }}\n"
    )
    with pytest.raises(ConfigError) as caught:
        Templates(folder).check()
    message = str(caught.value)
    assert f"{folder / 'notice.html.j2'}:2: undefined variable" in message
    assert "severity" in message


def test_unknown_override_name_lists_the_known_ones(tmp_path: Path) -> None:
    folder = _override(tmp_path, "alert.txt.j2", "hello\n")
    (folder / ".alert.text.j2.swp").write_text("editor leftovers", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        Templates(folder).check()
    message = str(caught.value)
    assert "alert.txt.j2" in message
    assert all(name in message for name in NAMES)


def test_runtime_failure_falls_back_to_the_builtin(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _override(
        tmp_path, "alert.markdown.j2", "{{ hit.title }}\n{{ 10 // (hit.score | int) }}\n"
    )
    templates = Templates(folder)
    templates.check()  # the sample's score is not zero: the mistake shows only at run time
    with caplog.at_level(logging.ERROR, logger="monitor.alerts.templates"):
        message = templates.alert(AlertItem(hit=_hit(score=0.5)), "markdown")
    assert "[Regulator tightens VPN rules](https://news.example.org/story/1)" in message.body
    assert f"{folder / 'alert.markdown.j2'}:2 failed" in caplog.text
    assert "ZeroDivisionError" in caplog.text


def test_sandbox_keeps_templates_away_from_python_internals(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _override(
        tmp_path, "notice.text.j2", "{{ ''.__class__.__mro__[1].__subclasses__() }}\n"
    )
    templates = Templates(folder)
    with pytest.raises(ConfigError, match=r"not allowed in a template: .*unsafe"):
        templates.check()
    with caplog.at_level(logging.ERROR, logger="monitor.alerts.templates"):
        message = templates.notice(Notice("T", "Body text.", "test"), "text")
    assert message.body == "Body text."
    assert "notice.text.j2:1 failed" in caplog.text


LOOP = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"  # 1e10


def test_a_runaway_loop_is_refused_at_load_with_its_line(tmp_path: Path) -> None:
    folder = _override(tmp_path, "alert.text.j2", "{{ hit.title }}\n" + LOOP + "\n")
    with pytest.raises(ConfigError) as caught:
        Templates(folder).check()
    assert str(caught.value) == (
        f"{folder / 'alert.text.j2'}:2: over a template limit: the render passed "
        f"{RENDER_STEPS:,} steps (a loop that runs too long?) (see Limits in docs/templates.md)"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ 'x' * 10 ** 9 }}", "a text or list 1,000,000,000 long (at most 1,000,000)"),
        ("{{ 7 ** 100000 }}", "7 ** 100000 has more than 4096 bits"),
        ("{% for i in range(2000) %}{{ 'x' * 1000 }}{% endfor %}", "the output passed 1,000,000"),
        (  # a list doubled 40 times: too long before it is made
            "{% set ns = namespace(s=[1]) %}{% for i in range(40) %}"
            "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s | length }}",
            "a text or list 1,048,576 long",
        ),
    ],
)
def test_huge_values_and_output_are_refused_with_their_line(
    tmp_path: Path, text: str, message: str
) -> None:
    folder = _override(tmp_path, "alert.html.j2", f"<p>{{{{ hit.title }}}}</p>\n{text}\n")
    with pytest.raises(ConfigError) as caught:
        Templates(folder).check()
    assert str(caught.value).startswith(
        f"{folder / 'alert.html.j2'}:2: over a template limit: {message}"
    )


def test_a_runaway_render_at_delivery_falls_back_to_the_builtin(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = '{{ hit.title }}\n{% if hit.profile == "runaway" %}\n' + LOOP + "\n{% endif %}\n"
    folder = _override(tmp_path, "alert.text.j2", text)
    templates = Templates(folder)
    templates.check()  # the samples never take the loop
    tracing = sys.gettrace()
    with caplog.at_level(logging.ERROR):
        message = templates.alert(AlertItem(hit=_hit(profile="runaway")), "text")
    assert message.body.startswith("Profile: runaway\n\nRegulator")  # the built-in alert
    assert sys.gettrace() is tracing  # the step counter is gone from the thread
    assert (
        f"{folder / 'alert.text.j2'}:3 failed (over a template limit: the render passed "
        f"{RENDER_STEPS:,} steps" in caplog.text
    )
    assert "the built-in alert.text.j2 was used for this message" in caplog.text


def test_override_folder_must_be_a_folder(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "templates"
    not_a_folder.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="should be a folder"):
        Templates(not_a_folder).check()


def test_missing_include_is_reported(tmp_path: Path) -> None:
    folder = _override(tmp_path, "digest.title.j2", '{% include "footer.j2" %}\n')
    with pytest.raises(ConfigError) as caught:
        Templates(folder).check()
    assert "digest.title.j2:1: no template named 'footer.j2'" in str(caught.value)


def test_examples_in_the_docs_pass_the_check(tmp_path: Path) -> None:
    page = (REPO / "docs" / "templates.md").read_text(encoding="utf-8")
    examples = re.findall(r"`config/templates/([\w.]+)`:[^`]*?```jinja\n(.*?)```", page, re.S)
    assert len(examples) == 2
    for name, text in examples:
        Templates(_override(tmp_path, name, text)).check()
    documented = set(re.findall(r"^\| `(\w+)", page.split("## Filters", 1)[1], re.M))
    assert documented >= set(FILTERS)


# ---- filters ----


def test_filters() -> None:
    assert when(None) == "date unknown"
    assert when(PUBLISHED, "Asia/Shanghai", "%H:%M") == "09:30"
    assert web_url("javascript:alert(1)") == ""
    assert web_url("  https://a.example/x y\n") == "https://a.example/x%20y"
    assert web_url("http://[::1") == ""
    assert plural(1, "hit") == "1 hit"
    assert plural(2, "story", "stories") == "2 stories"
