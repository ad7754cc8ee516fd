"""The exception tree of the monitor; library errors are translated into these at the edges.

MonitorError
 ├── ConfigError           a configuration file or MONITOR_* variable is wrong (CLI exit 2)
 ├── FetchError            an HTTP fetch did not give us a usable body
 │    ├── FetchTimeout     connect, read or total deadline exceeded
 │    ├── FetchTooLarge    the body grew past the byte cap
 │    └── FetchStatus      the server answered with a non-success status (.status)
 ├── FeedParseError        a feed document yielded no entries and a fatal parse error
 ├── ExtractError          an article page could not be turned into text
 ├── StoreError            the database could not be reached or migrated
 └── DeliveryError         an alert channel did not accept a message
"""

from __future__ import annotations

from pathlib import Path


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


class FetchError(MonitorError):
    """An HTTP fetch failed; the message says which URL and why."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


class FetchTimeout(FetchError):
    """The server did not answer within the configured deadline."""


class FetchTooLarge(FetchError):
    """The body exceeded the configured byte cap."""


class FetchStatus(FetchError):
    """The server answered with an HTTP status we cannot use."""

    def __init__(self, url: str, status: int) -> None:
        self.status = status
        super().__init__(url, f"HTTP status {status}")


class FeedParseError(MonitorError):
    """A feed document could not be parsed into any entry."""


class ExtractError(MonitorError):
    """An article page could not be turned into text."""


class StoreError(MonitorError):
    """The database is unreachable or its schema could not be brought up to date."""


class DeliveryError(MonitorError):
    """An alert channel refused or could not receive a message."""
