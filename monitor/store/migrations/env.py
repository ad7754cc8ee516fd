"""Alembic environment: migrations run on the engine the monitor passes in (never at import)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text
from sqlmodel import SQLModel

import monitor.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

# Instances starting together on one PostgreSQL database would run the same migration at
# once: the first takes this lock (held until its transaction ends), the others then find
# the schema at head. The key is "monitor" in ASCII.
UPGRADE_LOCK = 0x6D6F6E69746F72

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK})
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=True,
        compare_type=True,
    )
    context.run_migrations()
