"""One service instance per SQLite file: an exclusive lock on a file beside the database.

PostgreSQL lets several instances share the work (feeds and deliveries are claimed with
row locks and leases); SQLite cannot give that guarantee, so `monitor run` on a SQLite file
takes `<database>.lock` with flock(2) and refuses to start when another process holds it.
The kernel drops the lock when its process ends, kill -9 included: no stale lock to clean.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from sqlalchemy import Engine

from monitor.errors import StoreError


class InstanceLock:
    """Held while the service runs; a no-op for databases other than a SQLite file."""

    def __init__(self, engine: Engine) -> None:
        self.path = lock_path(engine)
        self._fd: int | None = None

    def __enter__(self) -> InstanceLock:
        if self.path is None:
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            database = self.path.with_suffix("")
            raise StoreError(
                f"another monitor instance (pid {holder}) is running on {database}: SQLite "
                "allows one instance per database file. Stop it first, or use PostgreSQL "
                "(database_url) to run several instances"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the descriptor releases the flock


def lock_path(engine: Engine) -> Path | None:
    """`<database file>.lock` for a SQLite file; None for PostgreSQL or an in-memory SQLite."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    database = Path(url.database)
    return database.with_name(database.name + ".lock")
