"""Opening the database named by a URL, telling whether it exists, and bringing its schema up
to date (Alembic); a SQLite file that is not a usable database is DatabaseCorrupt, wherever
SQLite finds it out."""

from __future__ import annotations

import json
import os
from contextlib import suppress
from functools import partial
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from monitor.errors import ConfigError, DatabaseCorrupt, StoreError

MIGRATIONS = Path(__file__).with_name("migrations")


def _parsed(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"database_url (monitor.yaml or MONITOR_DATABASE_URL) {url!r} is not a database URL "
            "(expected sqlite:///path.db or postgresql+psycopg://user@host/db)"
        ) from None


def _sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory ones."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return None if url.database.startswith("file:") else Path(url.database)


def anchored(url: str, base: Path) -> str:
    """`url` with a relative SQLite path taken from `base` instead of the working directory;
    any other URL (absolute path, in-memory, PostgreSQL, not a URL at all) as it is."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url  # open_engine says what is wrong with it, to the commands that use it
    path = _sqlite_file(parsed)
    if path is None or path.is_absolute():
        return url
    return parsed.set(database=str(base / path)).render_as_string(hide_password=False)


def open_engine(url: str, *, create: bool = True) -> Engine:
    """An Engine for `url` (a relative SQLite path: from the working directory, unless
    `anchored`). With `create`, a SQLite file's folder is made here and the file at the first
    connection (mode 0600: `_private_file`); without it nothing is: ask `exists` before
    connecting."""
    parsed = _parsed(url)
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_file(parsed)
        if create and path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed, connect_args={"timeout": 30}, json_serializer=_json_without_nul
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        if path is not None:
            event.listen(engine, "do_connect", partial(_private_file, path))
            event.listen(engine, "handle_error", partial(_unusable_file, path))
    elif parsed.get_backend_name() == "postgresql":
        engine = create_engine(parsed, pool_pre_ping=True, json_serializer=_json_without_nul)
    else:
        raise ConfigError(
            f"database_url (monitor.yaml or MONITOR_DATABASE_URL): unsupported database "
            f"{parsed.get_backend_name()!r}; use sqlite:///path.db or postgresql+psycopg://…"
        )
    event.listen(engine, "before_cursor_execute", _parameters_without_nul, retval=True)
    return engine


def exists(engine: Engine) -> bool:
    """Whether the monitor's database is there: its SQLite file, or a PostgreSQL database,
    holding the schema `upgrade` makes. Creates nothing: a missing SQLite file is not opened
    (connecting would create it)."""
    path = _sqlite_file(engine.url)
    if path is not None and not path.is_file():
        return False
    try:
        return inspect(engine).has_table("alembic_version")
    except OperationalError as exc:
        raise StoreError(f"cannot reach the database {engine.url!r}: {exc.orig}") from None


def location(engine: Engine) -> str:
    """Where the database is, for a message: its SQLite file, else its URL without password."""
    path = _sqlite_file(engine.url)
    if path is not None:
        return str(path.absolute())
    return engine.url.render_as_string(hide_password=True)


# PostgreSQL refuses the NUL character in text and JSON (SQLite stores it): text from a feed
# (a JSON Feed's "\u0000", an id, a URL) would fail to store at every poll while its feed
# reports ok. Every string written, on either database, has its NULs replaced (U+FFFD, as
# parse_feed does for a document's own NULs).
NUL, REPLACEMENT = "\x00", "\ufffd"


def without_nul(value: Any) -> Any:
    """`value` with NUL characters replaced in every string it holds (lists, tuples, dicts);
    the same object when it holds none."""
    if isinstance(value, str):
        return value.replace(NUL, REPLACEMENT) if NUL in value else value
    if isinstance(value, list | tuple):
        items = [without_nul(item) for item in value]
        same = all(new is old for new, old in zip(items, value, strict=True))
        return value if same else type(value)(items)
    if isinstance(value, dict):
        pairs = {key: without_nul(item) for key, item in value.items()}
        return value if all(pairs[k] is v for k, v in value.items()) else pairs
    return value


def _json_without_nul(value: Any) -> str:
    return json.dumps(without_nul(value))


def _parameters_without_nul(
    _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool
) -> tuple[str, Any]:
    """before_cursor_execute: the statement's parameters without NULs (one set, or a list of
    sets when `many`)."""
    return statement, without_nul(parameters)


def _sqlite_pragmas(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _private_file(path: Path, *_connecting: Any) -> None:
    """do_connect: a database file not there yet is made empty (an empty file is an empty
    database to SQLite) with mode 0600 before SQLite opens it, which would make it 0644; its
    -wal and -shm files take the database file's mode. It holds the archive and what the
    channels sent: only the service's user reads it."""
    # there already (the usual case), or no folder, no permission: SQLite's own open says so
    with suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


# SQLite's result codes for a file that is not a database and for a damaged one (the extended
# codes, SQLITE_CORRUPT_INDEX and the like, keep theirs in the low byte)
SQLITE_CORRUPT, SQLITE_NOTADB = 11, 26


def _unusable_file(path: Path, context: ExceptionContext) -> None:
    """handle_error: SQLite saying the file is no database, or a damaged one, becomes
    DatabaseCorrupt naming the file, at connecting (the pragmas read it) as at any statement."""
    error = context.original_exception
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in (SQLITE_CORRUPT, SQLITE_NOTADB):
        raise DatabaseCorrupt(path.absolute(), str(error)) from None


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration."""
    try:
        command.upgrade(alembic_config(engine), "head")
    except OperationalError as exc:
        raise StoreError(f"cannot reach the database {engine.url!r}: {exc.orig}") from None


def insert_ignoring_duplicates(engine: Engine | str, table: Any) -> Any:
    """An INSERT … ON CONFLICT DO NOTHING for this engine's dialect (or the dialect named)."""
    dialect = engine if isinstance(engine, str) else engine.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert  # noqa: PLC0415

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert  # noqa: PLC0415

    return sqlite_insert(table).on_conflict_do_nothing()
