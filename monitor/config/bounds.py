"""The values a setting may take: every number finite and within a range, every duration parsed
and bounded, every host name and free text free of control and bidi characters.

A range travels with its field as Annotated metadata (`Annotated[int, Range(1, 1024)]`): the
loaders enforce it through pydantic, so a careless value is a ConfigError at its line, and
tests/test_docs.py holds docs/configuration.md to the same ranges.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from typing import Any, TypeVar

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

N = TypeVar("N", int, float)

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0
YEAR = 365 * DAY
GIB = 1024**3

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SHOWN_UNITS = (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60))
# control, format (bidi overrides, zero-width), surrogate, line and paragraph separators
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?")


def parse_duration(value: Any) -> Any:
    """Accept seconds as a number or a string like `90`, `15m`, `2h`, `7d`, `1w`."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 900, 15m, 2h or 7d")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            return float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    raise ValueError(f"expected a duration such as 900, 15m, 2h or 7d, got {value!r}")


@dataclass(frozen=True, slots=True)
class Range:
    """A number's bounds, both included unless `above` (then `low` itself is refused)."""

    low: float
    high: float
    above: bool = False

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        checked = core_schema.no_info_after_validator_function(self.check, handler(source))
        return core_schema.no_info_before_validator_function(self.prepare, checked)

    def prepare(self, value: Any) -> Any:
        """What the field's own type validates next: a yes/no is never a number."""
        if isinstance(value, bool):
            raise ValueError(f"expected a number {self}, got {value}")
        return value

    def check(self, value: N) -> N:
        """`value` when within the range, else a ValueError saying what is accepted."""
        inside = self.low < value if self.above else self.low <= value
        if not (_finite(value) and inside and value <= self.high):
            raise ValueError(f"expected a number {self}, got {_number(value)}")
        return value

    def __str__(self) -> str:
        if self.above:
            return f"more than {_number(self.low)}, up to {_number(self.high)}"
        return f"from {_number(self.low)} to {_number(self.high)}"


@dataclass(frozen=True, slots=True)
class Duration(Range):
    """A duration's bounds in seconds, both included; read from seconds or `15m`, `2h`, `7d`."""

    def prepare(self, value: Any) -> Any:
        return parse_duration(value)

    def check(self, value: N) -> N:
        if not (_finite(value) and self.low <= value <= self.high):
            raise ValueError(f"expected a duration {self}, got {_number(value)} s")
        return value

    def parse(self, text: str) -> float:
        """Seconds of `text` (a command-line option), or a ValueError saying what is accepted."""
        return float(self.check(float(parse_duration(text))))

    def __str__(self) -> str:
        return f"from {seconds_text(self.low)} to {seconds_text(self.high)}"


LOOKBACK = Duration(0, 100 * YEAR)  # how far back a "since" duration (30d, 12h) reaches


def moment_since(value: str, now: datetime) -> datetime:
    """A "since" or "until" a person typed: a duration back from `now` (7d, 12h) within
    LOOKBACK, or an ISO date (UTC when it names no offset); a ValueError saying what is
    accepted otherwise (never a moment too early for a date to hold)."""
    try:
        parse_duration(value)
    except ValueError:
        pass
    else:
        try:
            return now - timedelta(seconds=LOOKBACK.parse(value))
        except ValueError as exc:
            raise ValueError(f"{value!r}: {exc}") from None
    try:
        parsed = datetime.fromisoformat(value)
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(
            f"{value!r}: expected a duration like 7d or 12h, or a date like 2026-11-01"
        ) from None
    except OverflowError:  # 0001-01-01T00:00+01:00 is in the year 0 in UTC
        raise ValueError(
            f"{value!r}: expected a date from 0001-01-01 to 9999-12-31 in UTC"
        ) from None


def seconds_text(seconds: float) -> str:
    """`seconds` in the largest unit dividing it: 3600 → 1h, 30 → 30s, 0.1 → 0.1s."""
    for unit, size in _SHOWN_UNITS:
        if seconds >= size and seconds % size == 0:
            return f"{_number(seconds / size)}{unit}"
    return f"{_number(seconds)}s"


def _finite(value: float) -> bool:
    """Not infinite, not NaN (an integer, however long, always is: it is never made a float)."""
    return isinstance(value, int) or math.isfinite(value)


def _number(value: float) -> str:
    """A number as written, short: 1024, 0.1, 1e+20, inf; an integer too long is summarised."""
    if isinstance(value, int):
        return str(value) if value.bit_length() <= 128 else f"a {value.bit_length()}-bit number"
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:g}"


@dataclass(frozen=True, slots=True)
class Text:
    """A string's length bounds; characters that hide or reorder text are refused, and with
    `visible_ascii` anything but the printable ASCII characters (a header's token)."""

    low: int
    high: int
    visible_ascii: bool = False

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def check(self, value: str) -> str:
        if not self.low <= len(value) <= self.high:
            raise ValueError(f"expected {self.low} to {self.high} characters, got {len(value)}")
        hidden = _hidden_character(value, visible_ascii=self.visible_ascii)
        if hidden is not None:
            raise ValueError(f"character {hidden} is not accepted here")
        return value

    def __str__(self) -> str:
        return f"from {self.low} to {self.high} characters"


def check_host(value: str) -> str:
    """An IP address (127.0.0.1, 0.0.0.0, ::) or an ASCII host name (localhost, a.example)."""
    hidden = _hidden_character(value, visible_ascii=True)
    if hidden is not None:
        raise ValueError(f"character {hidden} is not accepted in a host")
    try:
        ip_address(value)
    except ValueError:
        if not _HOSTNAME.fullmatch(value):
            raise ValueError(
                f"expected an IP address such as 127.0.0.1 or 0.0.0.0, or a host name, "
                f"got {value!r}"
            ) from None
    return value


def hidden_character(text: str) -> str | None:
    """The first character of `text` that hides or reorders text (U+202E, …), or None."""
    return _hidden_character(text, visible_ascii=False)


def _hidden_character(text: str, *, visible_ascii: bool) -> str | None:
    """How the first refused character of `text` is shown (U+202E, …), or None."""
    for char in text:
        refused = not "!" <= char <= "~" if visible_ascii else False
        if refused or unicodedata.category(char) in _HIDDEN:
            return f"U+{ord(char):04X}"
    return None
