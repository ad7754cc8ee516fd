"""claimed_by on feed, alert and message: which instance holds a claim

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

A claim (a feed's lease, an alert's or a message's next attempt moved past its lease) now
names the instance that holds it, so the claims of an instance that stopped sending its
heartbeat (killed, its machine lost) are taken over within a minute instead of after the
lease, and `run --once` can say who holds the feeds it skips. Claims written before this
migration name no one: their lease still ends them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("feed", "alert", "message")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
    op.create_index("ix_feed_claimed_by", "feed", ["claimed_by"])


def downgrade() -> None:
    op.drop_index("ix_feed_claimed_by", table_name="feed")
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("claimed_by")
