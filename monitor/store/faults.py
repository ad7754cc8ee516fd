"""Which errors mean the database itself is unreachable or cannot be written (a lost
PostgreSQL server, a full disk, a read-only SQLite file), as opposed to a bug in a query:
the service reports the first kind once per outage, and carries on until it ends."""

from __future__ import annotations

import sqlite3

import psycopg
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

_SCHEMA_BUGS = ("no such table", "no such column", "near ")  # a query's bug, not an outage
_DRIVER_FAULTS = (sqlite3.OperationalError, psycopg.OperationalError, psycopg.InterfaceError)


def unavailable(exc: BaseException) -> str | None:
    """What `exc` says about the database in one line, when it means the database cannot be
    reached or written; None for any other error."""
    fault = isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )
    if isinstance(exc, DBAPIError):
        exc = exc.orig if isinstance(exc.orig, BaseException) else exc
    if not (fault or isinstance(exc, _DRIVER_FAULTS)):
        return None
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if lines and lines[0].startswith(_SCHEMA_BUGS):  # SQLite says these as OperationalError
        return None
    return f"{type(exc).__name__}: {lines[0] if lines else 'no detail'}"


def where(engine: Engine) -> str:
    """The database in a few words, for a log line (never its password)."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return f"SQLite {url.database or ':memory:'}"
    return f"PostgreSQL {url.host or 'localhost'}:{url.port or 5432}/{url.database}"
