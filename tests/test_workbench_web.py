"""The profile workbench over HTTP: a real uvicorn server on 127.0.0.1 over a real database
(SQLite and PostgreSQL) and a real configuration folder. Validate, test and backtest an
unsaved query (no token needed on loopback); save through the API and the editor's form
(the token always, CSRF for the form); comments kept, conflicts shown, versions restored."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import Engine

from monitor.profiles.editing import digest
from monitor.profiles.files import current_profiles
from monitor.store.profileversions import versions
from monitor.web.access import csrf_token
from tests.newsroom import STAND_IN
from tests.test_web_api import _serve as serve_api
from tests.test_web_pages import Client, Story, build_archive

TOKEN = "a-long-enough-web-token"
WATCH = """\
# Watch: a profile the tests edit. This comment must survive every save.
description: Firewall news
query: firewall   # the whole query
tags: [test]
"""
STORIES = [
    Story("a", "watch", "en", "Firewall tightened again", 0),
    Story("b", "watch", "en", "Firewall loosened", 1),
    Story("c", "watch", "en", "Firewall history", 2),
    Story("d", "other", "en", "Firewall tightened elsewhere", 0),
]


@pytest.fixture
def folder(config_dir: Path) -> Path:
    (config_dir / "profiles" / "watch.yaml").write_text(WATCH, encoding="utf-8")
    return config_dir


def _serve(engine: Engine, folder: Path, token: str | None) -> Iterator[str]:
    """The application as it listens on 127.0.0.1 (reading open, writing needs `token`):
    its base URL."""
    for served in serve_api(engine, folder, token, reads_open=True):
        yield served.base


@pytest.fixture
def base(engine: Engine, folder: Path) -> Iterator[str]:
    build_archive(engine, STORIES)
    yield from _serve(engine, folder, TOKEN)


def call(
    url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **(headers or {})}
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            raw, status, got = answer.read(), answer.status, dict(answer.headers)
    except urllib.error.HTTPError as exc:
        raw, status, got = exc.read(), exc.code, dict(exc.headers)
    kind = got.get("content-type", "")
    return status, got, json.loads(raw) if kind.startswith("application/json") else raw.decode()


def test_validate_tells_the_line_and_column_of_a_bad_query(base: str) -> None:
    fields = {"description": "d", "query": 'firewall AND ("great', "tags": ["t"]}
    status, _, answer = call(
        f"{base}/api/v1/profiles/validate", "POST", {"name": "watch", "fields": fields}
    )
    assert status == 200 and answer["valid"] is False
    assert answer["error"]["line"] == 3 and answer["error"]["column"] > 7
    assert "quote" in answer["error"]["message"].lower() or '"' in answer["error"]["message"]
    fields["query"] = 'firewall AND "great wall"'
    _, _, answer = call(
        f"{base}/api/v1/profiles/validate", "POST", {"name": "watch", "fields": fields}
    )
    assert answer["valid"] is True
    assert "This comment must survive" in answer["yaml"]
    assert 'query: firewall AND "great wall"' in answer["yaml"].replace("'", "")


def test_an_unsaved_query_is_tested_on_a_text_and_a_stored_article(base: str) -> None:
    status, _, answer = call(
        f"{base}/api/v1/profiles/test",
        "POST",
        {
            "query": '"great firewall" AND vpn*',
            "text": "The Great Firewall blocked more VPNs this week.",
        },
    )
    assert status == 200 and answer["matched"] is True
    assert set(answer["matched_terms"]) >= {"great firewall"}
    assert any("✓" in line for line in answer["explain"])
    status, _, answer = call(
        f"{base}/api/v1/profiles/test", "POST", {"query": "vpn*", "text": "Nothing about it."}
    )
    assert status == 200 and answer["matched"] is False and answer["why_not"]
    status, _, answer = call(f"{base}/api/v1/profiles/test", "POST", {"query": "(vpn", "text": "x"})
    assert status == 400 and answer["error"]["line"] == 1 and answer["error"]["column"]
    status, _, answer = call(f"{base}/api/v1/profiles/test", "POST", {"query": "vpn"})
    assert status == 400 and "text" in answer["error"]["message"]
    status, _, answer = call(
        f"{base}/api/v1/profiles/test", "POST", {"profile": "watch", "article_id": 1}
    )
    assert status == 200 and answer["profile"] == "watch" and answer["matched"] is True


def test_a_backtest_shows_what_an_unsaved_query_adds_and_removes(base: str) -> None:
    status, _, answer = call(
        f"{base}/api/v1/profiles/backtest",
        "POST",
        {"profile": "watch", "query": "tightened", "since": "30d"},
    )
    assert status == 200, answer
    assert [a["title"] for a in answer["added"]] == ["Firewall tightened elsewhere"]
    assert sorted(a["title"] for a in answer["removed"]) == [
        "Firewall history",
        "Firewall loosened",
    ]
    assert answer["kept"] == 1 and answer["added_count"] == 1 and answer["removed_count"] == 2
    assert sum(day["removed"] for day in answer["per_day"]) == 2
    status, _, answer = call(
        f"{base}/api/v1/profiles/backtest",
        "POST",
        {"profile": "watch", "query": "x", "since": "last week"},
    )
    assert status == 400 and "since" in answer["error"]["message"]
    status, _, answer = call(
        f"{base}/api/v1/profiles/backtest",
        "POST",
        {"profile": "watch", "query": "x", "since": "9999999d"},  # before the year 1
    )
    assert status == 400 and "expected a duration from 0s to 36500d" in answer["error"]["message"]
    status, _, _ = call(f"{base}/api/v1/profiles/backtest", "POST", {"profile": "nope"})
    assert status == 404


def _put(base: str, name: str, text: str, headers: dict[str, str]) -> tuple[int, Any]:
    status, _, answer = call(
        f"{base}/api/v1/profiles/{name}",
        "PUT",
        text.encode(),
        {"Content-Type": "application/yaml", **headers},
    )
    return status, answer


def test_put_needs_the_token_refuses_an_invalid_file_and_keeps_comments(
    base: str, folder: Path, engine: Engine
) -> None:
    path = folder / "profiles" / "watch.yaml"
    edited = WATCH.replace("query: firewall", 'query: firewall AND "great wall"')
    assert _put(base, "watch", edited, {})[0] == 401  # reading is open, writing is not
    assert _put(base, "watch", edited, {"Authorization": "Bearer wrong-token-0000"})[0] == 401
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    broken = WATCH.replace("query: firewall", 'query: firewall AND "great')
    status, answer = _put(base, "watch", broken, bearer)
    assert status == 400 and answer["error"]["line"] == 3 and answer["error"]["column"]
    bad_key = WATCH + "alert: sometimes\n"
    status, answer = _put(base, "watch", bad_key, bearer)
    assert status == 400 and answer["error"]["line"] == 5
    assert path.read_text(encoding="utf-8") == WATCH  # untouched
    assert versions(engine, "watch") == []

    status, answer = _put(base, "watch", edited, {**bearer, "If-Match": f'"{digest(WATCH)}"'})
    assert status == 200 and answer["saved"] is True
    assert path.read_text(encoding="utf-8") == edited  # the comments with it
    assert [p.query_text for p in current_profiles(folder) if p.name == "watch"] == [
        'firewall AND "great wall"'
    ]  # what the service reloads at its next tick
    kept = versions(engine, "watch")
    assert [v.text for v in kept] == [edited, WATCH]  # the file as found is kept too
    assert kept[0].saved_by == "token holder"

    status, answer = _put(base, "watch", WATCH, {**bearer, "If-Match": f'"{digest(WATCH)}"'})
    assert status == 409 and answer["error"]["current"] == edited  # it changed since
    status, answer = _put(base, "fresh", "query: censorship\n", bearer)
    assert status == 201 and (folder / "profiles" / "fresh.yaml").is_file()
    status, _, listed = call(f"{base}/api/v1/profiles/watch/versions")
    assert status == 200 and len(listed["versions"]) == 2
    status, headers, text = call(f"{base}/api/v1/profiles/watch/file")
    assert status == 200 and text == edited and headers["etag"] == f'"{digest(edited)}"'


def test_without_a_token_configured_nothing_can_be_written(engine: Engine, folder: Path) -> None:
    for served in _serve(engine, folder, None):
        status, answer = _put(served, "watch", WATCH, {"Authorization": "Bearer anything-at-all"})
        assert status == 403 and "web.token" in answer["error"]["message"]
        page = Client(served).request("/profiles/watch/edit").text
        assert "Saving is turned off" in page


def _form(query: str, action: str, **more: str) -> dict[str, str]:
    return {
        "csrf": csrf_token(TOKEN),
        "base": digest(WATCH),
        "name": "watch",
        "description": "Firewall news",
        "query": query,
        "tags": "test",
        "alert": "instant",
        "digest": "daily",
        "min_score": "1",
        "enabled": "on",
        "action": action,
        **more,
    }


def test_the_editor_saves_only_a_valid_edit_from_its_own_page(
    base: str, folder: Path, engine: Engine
) -> None:
    client = Client(base)
    path = folder / "profiles" / "watch.yaml"
    page = client.request("/profiles/watch/edit")
    assert page.status == 200
    document = page.html()
    assert document.xpath("//textarea[@name='query']/text()") == ["firewall"]
    assert document.xpath("//script/@src") == ["/static/editor.js"]
    assert not [s for s in document.xpath("//script") if (s.text or "").strip()]  # no inline
    edit = "/profiles/watch/edit"
    signed = {"Cookie": f"monitor_token={TOKEN}", "Origin": base}

    answer = client.request(edit, "POST", _form("firewall OR vpn*", "save"))
    assert answer.status == 401 and "sign in" in answer.text
    no_csrf = _form("firewall OR vpn*", "save", csrf="")
    assert client.request(edit, "POST", no_csrf, signed).status == 403
    elsewhere = {**signed, "Origin": "https://attacker.example"}
    assert client.request(edit, "POST", _form("firewall OR vpn*", "save"), elsewhere).status == 403
    invalid = client.request(edit, "POST", _form("firewall OR (vpn*", "save"), signed)
    assert invalid.status == 400 and "Not valid" in invalid.text and "line 3" in invalid.text
    assert invalid.html().xpath("//textarea[@name='query']/text()") == ["firewall OR (vpn*"]
    assert path.read_text(encoding="utf-8") == WATCH

    saved = client.request(edit, "POST", _form("firewall OR vpn*", "save", note="add VPNs"), signed)
    assert saved.status == 303 and saved.headers["location"].startswith("/profiles/watch")
    text = path.read_text(encoding="utf-8")
    assert "This comment must survive" in text and "# the whole query" in text
    assert "firewall OR vpn*" in text
    assert versions(engine, "watch")[0].note == "add VPNs"

    stale = client.request(edit, "POST", _form("firewall OR censorship", "save"), signed)
    assert stale.status == 409  # the form's base is the file before the first save
    shown = stale.html()
    assert "vpn*" in shown.xpath("string(//pre[@id='on-disk'])")
    assert shown.xpath("//textarea[@name='query']/text()") == ["firewall OR censorship"]


def test_the_editor_tests_and_backtests_the_unsaved_query(base: str) -> None:
    client = Client(base)
    edit = "/profiles/watch/edit"
    tested = client.request(
        edit, "POST", _form("vpn* AND blocked", "test", test_text="VPNs were blocked again.")
    )
    assert tested.status == 200
    verdict = tested.html().xpath("string(//div[@id='test-result']/p[1])")
    assert verdict.startswith("Matches"), verdict
    assert "✓" in tested.html().xpath("string(//pre[@class='tree'])")
    backtested = client.request(edit, "POST", _form("tightened", "backtest", since="30d"))
    result = backtested.html().xpath("//div[@id='backtest-result']")[0]
    assert "1 would be added" in result.text_content()
    assert "2 would be removed" in result.text_content()
    assert result.xpath(".//ul[contains(@class,'added')]/li/a/text()") == [
        "Firewall tightened elsewhere"
    ]


def test_a_saved_version_is_restored_from_the_history(
    base: str, folder: Path, engine: Engine
) -> None:
    client = Client(base)
    signed = {"Cookie": f"monitor_token={TOKEN}", "Origin": base}
    edit = "/profiles/watch/edit"
    assert client.request(edit, "POST", _form("firewall OR vpn*", "save"), signed).status == 303
    history = client.request("/profiles/watch/history")
    assert history.status == 200
    forms = history.html().xpath("//form[contains(@action, '/restore')]")
    assert len(forms) == 1  # the original (the newest is the file on disk)
    fields = {i.get("name"): i.get("value") for i in forms[0].xpath(".//input")}
    restored = client.request(forms[0].get("action"), "POST", fields, signed)
    assert restored.status == 303
    assert (folder / "profiles" / "watch.yaml").read_text(encoding="utf-8") == WATCH
    assert versions(engine, "watch")[0].note.startswith("restored version")
    unsigned = client.request(forms[0].get("action"), "POST", fields)
    assert unsigned.status == 401


def test_a_new_profile_is_made_from_the_form_and_a_suggestion_opens_in_the_editor(
    base: str, folder: Path
) -> None:
    client = Client(base)
    signed = {"Cookie": f"monitor_token={TOKEN}", "Origin": base}
    form = {**_form("sanction* NEAR/5 chip*", "save", base=""), "name": "chips"}
    nameless = client.request("/profiles/new", "POST", {**form, "name": ""}, signed)
    assert nameless.status == 400 and "Give the new profile a name" in nameless.text
    made = client.request("/profiles/new", "POST", form, signed)
    assert made.status == 303 and made.headers["location"].startswith("/profiles/chips")
    text = (folder / "profiles" / "chips.yaml").read_text(encoding="utf-8")
    assert "query: sanction* NEAR/5 chip*" in text and "tags: [test]" in text
    again = client.request("/profiles/new", "POST", form, signed)
    assert again.status == 409 and "exists already" in again.text  # never overwritten

    proposed = 'firewall AND NOT "next-generation firewall"'
    page = client.request(f"/profiles/watch/edit?{urlencode({'query': proposed})}")
    assert page.status == 200 and "holds a suggestion" in page.text
    assert page.html().xpath("//textarea[@name='query']/text()") == [proposed]
    assert (folder / "profiles" / "watch.yaml").read_text(encoding="utf-8") == WATCH


def test_a_profile_file_broken_by_hand_opens_in_the_editor_with_its_error(
    base: str, folder: Path
) -> None:
    (folder / "profiles" / "watch.yaml").write_text("query: [unclosed\n", encoding="utf-8")
    page = Client(base).request("/profiles/watch/edit")
    assert page.status == 409 and "mend it" in page.text and "watch.yaml:" in page.text
    assert "[unclosed" in page.html().xpath("string(//pre[@id='yaml'])")


def test_a_draft_derived_from_a_document_opens_in_the_editor_and_saves_with_its_comments(
    base: str, folder: Path
) -> None:
    client = Client(base)
    empty = client.request("/profiles/derive", "POST", {"text": " ", "title": ""})
    assert empty.status == 400 and "paste a text" in empty.text
    answer = client.request(
        "/profiles/derive",
        "POST",
        {"name": "wic_draft", "title": "World Internet Conference opens", "text": STAND_IN},
    )
    assert answer.status == 200, answer.text[-2000:]
    document = answer.html()
    query = document.xpath("string(//textarea[@name='query'])")
    assert "@WIC" in query and "@CAC" in query
    assert "@WIC" in document.xpath("string(//section[@class='derived'])")
    assert "the draft matches" in document.xpath("string(//dd[@id='draft-backtest'])")
    fields = {i.get("name"): i.get("value") or "" for i in document.xpath("//form//input")}
    fields.update(query=query, action="save", enabled="on", alert="instant")
    fields.update(csrf=csrf_token(TOKEN), note="from a document")
    signed = {"Cookie": f"monitor_token={TOKEN}", "Origin": base}
    saved = client.request("/profiles/new", "POST", fields, signed)
    assert saved.status == 303, saved.text[-2000:]
    text = (folder / "profiles" / "wic_draft.yaml").read_text(encoding="utf-8")
    assert text.startswith("#") and "draft" in text.lower() and "@WIC" in text
