"""Credentials in feed URLs never shown or logged in clear; the text-safety functions the CLI
and the alerts share (printable, CSV cells, JSON)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from monitor.archive.export import csv_cell
from monitor.cli.common import json_text
from monitor.config.secrets import redact_url, redact_urls, url_secrets
from monitor.logs import configure_logging
from monitor.profiles.normalize import printable
from monitor.runtime.service import Service
from tests.conftest import open_database

PASSWORD = "hunter2-Secret"
TOKEN = "tok-8f2a9c41d7"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:pw@host/feed?token=abc", "http://user:****@host/feed?token=****"),
        ("https://a.example/rss", "https://a.example/rss"),
        ("https://A.example:8443/r%20ss?b=2&a=1#x", "https://A.example:8443/r%20ss?b=2&a=1#x"),
        ("https://bot@h.example/rss", "https://bot@h.example/rss"),  # a user name alone: kept
        ("https://u:@h.example/rss", "https://u:@h.example/rss"),  # an empty password
        ("https://u:p%40ss@h.example/", "https://u:****@h.example/"),
        ("https://h.example/?API_KEY=1&Sig=2&x=3", "https://h.example/?API_KEY=****&Sig=****&x=3"),
        (
            "https://h.example/f?apikey=a&api_key=b&access_token=c&auth=d&secret=e",
            "https://h.example/f?apikey=****&api_key=****&access_token=****&auth=****&secret=****",
        ),
        (
            "https://h.example/f?key=a&password=b&pass=c&pw=d&signature=e#token=f",
            "https://h.example/f?key=****&password=****&pass=****&pw=****&signature=****#token=f",
        ),
        (
            "https://h.example/f?token=&tokens=1&monkey=2",
            "https://h.example/f?token=&tokens=1&monkey=2",
        ),
        ("https://[::1/f?token=x", "https://[::1/f?token=****"),  # broken, still redacted
        ("not a url token=abc", "not a url token=abc"),
    ],
)
def test_redact_url_hides_passwords_and_secret_parameters(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_url_secrets_are_what_redact_url_hides_as_written_and_decoded() -> None:
    url = f"https://reader:{PASSWORD}@feeds.example/rss?token={TOKEN}&lang=en&Key=a%2Fb+c"
    assert url_secrets(url) == (PASSWORD, TOKEN, "a%2Fb+c", "a/b c")
    assert url_secrets("https://feeds.example/rss?lang=en") == ()
    assert url_secrets("garbage") == ()


def test_redact_urls_redacts_every_url_in_a_text_punctuation_kept() -> None:
    error = (
        f"https://reader:{PASSWORD}@feeds.example/rss?token={TOKEN}: HTTP status 401 "
        f"(redirected from http://x.example/?sig={TOKEN}.)"
    )
    assert redact_urls(error) == (
        "https://reader:****@feeds.example/rss?token=****: HTTP status 401 "
        "(redirected from http://x.example/?sig=****.)"
    )
    assert redact_urls("connection refused") == "connection refused"


def test_printable_drops_what_a_terminal_would_obey() -> None:
    hostile = "a\x1b]0;t\x07b\x1b[2Jc\x9b1md\x7fe\r\x00\u202eg\u2066h\u2069\u200e\u200f\u061ci"
    assert printable(hostile) == "a]0;tb[2Jc1mdeghi"
    assert printable("网信办\t草案\n第二行 «quoted» — ok") == "网信办\t草案\n第二行 «quoted» — ok"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\r=x", "'=x"),  # the carriage return dropped, the formula still neutralised
        ("\x1b[2J=x", "[2J=x"),
        ("a = b", "a = b"),
        ("", ""),
        (None, ""),
        (-1.5, "-1.5"),  # the monitor's own numbers stay numbers
        (3, "3"),
        (float("-inf"), "'-inf"),
    ],
)
def test_csv_cell_neutralises_formulas(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_json_text_escapes_what_printable_drops_and_keeps_the_data() -> None:
    value = {"title": "网信办 \x1b[2J \x9b \u202eevil \x7f"}
    text = json_text(value)
    assert printable(text) == text
    assert "网信办" in text and "\\u009b" in text and "\\u202e" in text
    assert json.loads(text) == value


def test_the_service_masks_feed_credentials_in_every_log_line(
    root_logging: None, capsys: pytest.CaptureFixture[str], config_dir: Path, sqlite_url: str
) -> None:
    url = f"https://reader:{PASSWORD}@feeds.example/rss?token={TOKEN}"
    (config_dir / "feeds.yaml").write_text(f"feeds:\n  - url: '{url}'\n")
    configure_logging("INFO", json_lines=True)
    settings, engine = open_database(config_dir, sqlite_url)
    try:
        service = Service(config_dir, settings, engine)
        logging.getLogger("aiohttp.client").warning("GET %s failed", url)
        later = f"https://feeds.example/other?api_key={TOKEN}-2"  # another size: a reload
        (config_dir / "feeds.yaml").write_text(f"feeds:\n  - url: '{later}'\n")
        assert service.reload()
        logging.getLogger("somebody").info("polling %s", later)
    finally:
        engine.dispose()
    lines = [json.loads(line)["message"] for line in capsys.readouterr().err.splitlines()]
    assert "GET https://reader:****@feeds.example/rss?token=**** failed" in lines
    assert "polling https://feeds.example/other?api_key=****" in lines
    assert not any(PASSWORD in line or TOKEN in line for line in lines)
