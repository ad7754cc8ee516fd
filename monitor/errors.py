"""The exception tree of the monitor; library errors are translated into these at the edges.

MonitorError
 ├── ConfigError           a configuration file or MONITOR_* variable is wrong (CLI exit 2)
 ├── FetchError            an HTTP fetch gave no usable body (.url, .reason, .category);
 │    │                    raised as such for the categories dns, tls, connect, redirect, protocol
 │    ├── FetchTimeout     connect, read or total deadline passed         timeout
 │    ├── FetchTooLarge    the body passed the cap, sent or decompressed  too_large
 │    ├── FetchStatus      a status we cannot use (.status, .retry_after) http_4xx, http_5xx, gone
 │    └── FetchBlocked     refused before connecting: by the address      blocked_address,
 │                         policy, or the URL is not http(s)              bad_scheme
 ├── FeedParseError        a feed document yielded no entries and a fatal parse error
 ├── ExtractError          an article page could not be turned into text
 │    └── ExtractorUnavailable  the worker processes cannot load the extractor (a missing
 │                         package): refused at start, a notice and entry text later
 ├── StoreError            the database could not be reached or migrated (CLI exit 1)
 │    └── DatabaseCorrupt  a SQLite file that is not a database, or a damaged one (CLI exit 3)
 └── DeliveryError         an alert channel did not accept a message
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import ClassVar, Literal


class MonitorError(Exception):
    """Base of every error the monitor raises on purpose."""


class ConfigError(MonitorError):
    """A user's configuration is wrong; the message names the file, line and key."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.column = column
        self.detail = message
        where = ""
        if self.path is not None:
            where = self.path if line is None else f"{self.path}:{line}"
            where += "" if line is None or column is None else f":{column}"
            where += ": "
        super().__init__(where + message)


FetchCategory = Literal[
    "timeout",  # connect, read (gap between bytes) or total deadline passed
    "dns",  # the host name did not resolve
    "tls",  # TLS handshake or certificate failure
    "connect",  # refused, reset or closed before an answer
    "http_4xx",  # a 4xx status other than 410
    "http_5xx",  # a 5xx status
    "too_large",  # the body passed fetch.max_bytes, as sent or after decompression
    "redirect",  # a loop, too many redirects, no usable Location, a 3xx we do not follow
    "blocked_address",  # the address policy refused the host (private, loopback, link-local …)
    "bad_scheme",  # not an http(s) URL: javascript:, data:, file:, ftp:, mailto:, garbage
    "gone",  # 410 Gone: the resource will not come back
    "protocol",  # malformed HTTP: bad status line, broken body or encoding
]


class FetchError(MonitorError):
    """An HTTP fetch failed; the message says which URL and why, `category` says what kind."""

    def __init__(self, url: str, reason: str, category: FetchCategory) -> None:
        self.url = url
        self.reason = reason
        self.category: FetchCategory = category
        super().__init__(f"{url}: {reason}")


class FetchTimeout(FetchError):
    """The server did not answer within the configured deadline."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(url, reason, "timeout")


class FetchTooLarge(FetchError):
    """The body exceeded the configured byte cap."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(url, reason, "too_large")


class FetchStatus(FetchError):
    """The server answered with an HTTP status we cannot use; on 429/503 `retry_after` holds
    the seconds the server asked us to wait (None when it did not say)."""

    def __init__(
        self,
        url: str,
        status: int,
        reason: str | None = None,
        *,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(url, reason or f"HTTP status {status}", _status_category(status))


def _status_category(status: int) -> FetchCategory:
    if status == 410:
        return "gone"
    if 400 <= status < 500:
        return "http_4xx"
    if 500 <= status < 600:
        return "http_5xx"
    return "redirect" if 300 <= status < 400 else "protocol"


class FetchBlocked(FetchError):
    """The policy refused the URL before any connection: a non-public address the feed may not
    send us to ("blocked_address") or a scheme other than http/https ("bad_scheme")."""

    def __init__(
        self,
        url: str,
        reason: str,
        category: Literal["blocked_address", "bad_scheme"] = "blocked_address",
    ) -> None:
        super().__init__(url, reason, category)


class FeedParseError(MonitorError):
    """A feed document could not be parsed into any entry; `category` names why for feed health."""

    category: ClassVar[str] = "parse_error"


class ExtractError(MonitorError):
    """An article page could not be turned into text."""


class ExtractorUnavailable(ExtractError):
    """The worker processes cannot import the extractor (a package missing or broken): no
    page can be extracted until it is installed; `missing` names the package."""

    def __init__(self, message: str, missing: str) -> None:
        self.missing = missing
        super().__init__(message)


class StoreError(MonitorError):
    """The database is unreachable or its schema could not be brought up to date."""


class DatabaseCorrupt(StoreError):
    """A SQLite file that is not a database (a text file, random bytes) or whose pages do not
    hold together (truncated, overwritten); the message names the file and what to do."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        quoted = shlex.quote(self.path)
        super().__init__(
            f"{self.path} is not a usable SQLite database ({reason}); restore it from a backup, "
            f'recover what it holds (sqlite3 {quoted} ".recover" | sqlite3 NEW.db, then put '
            "NEW.db in its place), or move it away and `monitor run` creates a new one"
        )


class DeliveryError(MonitorError):
    """An alert channel refused or could not receive a message."""
