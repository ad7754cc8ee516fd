"""Secrets in configured URLs: a feed URL's password (`user:pw@host`) and credential query
parameters (`token=…`) are redacted wherever a URL is shown or stored, and handed to the log
mask (monitor.logs), like the secrets of alerts.yaml."""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

# Query parameters whose values are credentials (compared case-insensitively).
SECRET_PARAMS = frozenset(
    {
        "token",
        "key",
        "apikey",
        "api_key",
        "access_token",
        "auth",
        "secret",
        "password",
        "pass",
        "pw",
        "sig",
        "signature",
    }
)
REDACTED = "****"  # what replaces a secret (the log mask's own mark)
_PARTS = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://)(?P<netloc>[^/?#]*)(?P<rest>.*)", re.S)
_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")
_TRAILING = ".,;:!?)]}'\""


def redact_url(url: str) -> str:
    """`url` with its secrets replaced by ****: the password of its user info and the values
    of its query parameters named in SECRET_PARAMS. Anything else, spelling included, is
    kept as written; a URL without secrets comes back unchanged. Never raises."""
    parts = _PARTS.fullmatch(url)
    if parts is None:
        return url
    netloc = _redacted_netloc(parts["netloc"])
    path, query, fragment = _path_query_fragment(parts["rest"])
    if query is not None:
        path += "?" + "&".join(_redacted_param(p) for p in query.split("&"))
    return parts["head"] + netloc + path + fragment


def url_secrets(url: str) -> tuple[str, ...]:
    """The secrets redact_url hides in `url`, each as written and percent-decoded: what the
    log mask must replace wherever the URL or its parts turn up in a line."""
    parts = _PARTS.fullmatch(url)
    if parts is None:
        return ()
    found = [_password(parts["netloc"])]
    query = _path_query_fragment(parts["rest"])[1] or ""
    for param in query.split("&"):
        name, equals, value = param.partition("=")
        if equals and unquote_plus(name).lower() in SECRET_PARAMS:
            found.append(value)
    return tuple(dict.fromkeys(s for value in found for s in (value, unquote_plus(value)) if s))


def redact_urls(text: str) -> str:
    """`text` (an error message, a log line) with every URL in it passed through redact_url;
    punctuation right after a URL ("…/rss: HTTP status 401") stays outside it."""
    return _IN_TEXT.sub(_redact_match, text)


def _redact_match(found: re.Match[str]) -> str:
    url = found[0].rstrip(_TRAILING)
    return redact_url(url) + found[0][len(url) :]


def _password(netloc: str) -> str:
    """The password of a netloc's user info ("" without one)."""
    return netloc.rpartition("@")[0].partition(":")[2]


def _redacted_netloc(netloc: str) -> str:
    userinfo, _, host = netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    return f"{user}:{REDACTED}@{host}" if password else netloc


def _path_query_fragment(rest: str) -> tuple[str, str | None, str]:
    """(path, query or None, "#fragment" or "") of what follows the netloc."""
    rest, hash_, fragment = rest.partition("#")
    path, question, query = rest.partition("?")
    return path, query if question else None, hash_ + fragment


def _redacted_param(param: str) -> str:
    name, equals, value = param.partition("=")
    if equals and value and unquote_plus(name).lower() in SECRET_PARAMS:
        return f"{name}={REDACTED}"
    return param
