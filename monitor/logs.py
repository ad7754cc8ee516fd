"""Log set-up: human-readable lines on a terminal, one JSON object per line otherwise; the
secrets of alerts.yaml (${VAR} values, URL passwords) masked in every line, whoever logs it.

A line can carry structured fields, `extra={FIELDS: {"feed": ..., "duration_ms": ...}}`:
JSON lines hold them as top-level keys, the terminal shows the message alone."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

# Libraries that narrate every page or request at INFO.
_QUIET = ("trafilatura", "htmldate", "courlan", "justext", "apprise", "apscheduler", "alembic")


MASK = "****"
FIELDS = "fields"  # the LogRecord attribute holding a line's structured fields


class SecretMask(logging.Filter):
    """Replaces each known secret in a record's message, text fields and traceback text."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: tuple[str, ...] = ()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        masked = self.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, dict):  # a copy: the caller's dict is left alone
            masked_fields = {
                k: self.mask(v) if isinstance(v, str) else v for k, v in fields.items()
            }
            setattr(record, FIELDS, masked_fields)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        return True

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text


def mask_secrets(values: Iterable[str]) -> None:
    """Mask these values in everything the configured handlers write from now on."""
    secrets = tuple(sorted({v for v in values if len(v) >= 4}, key=len, reverse=True))
    for handler in logging.getLogger().handlers:
        for found in handler.filters:
            if isinstance(found, SecretMask):
                found.secrets = secrets


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, dict):
            payload.update({k: v for k, v in fields.items() if k not in payload})
        if record.exc_text:
            payload["exception"] = record.exc_text
        elif record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


def configure_logging(
    level: str, *, json_lines: bool | None = None, stream: TextIO | None = None
) -> None:
    """Configure the root logger once, writing to `stream` (stderr unless told: `monitor run`
    writes its log to stdout, other commands keep stdout for their output); JSON unless that
    stream is a terminal (or as told)."""
    stream = sys.stderr if stream is None else stream
    handler = logging.StreamHandler(stream)
    if json_lines is None:
        json_lines = not stream.isatty()
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
    )
    handler.addFilter(SecretMask())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
