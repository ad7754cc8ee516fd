"""stories: article.story_id and MinHash signature, story_band for candidate lookups

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.add_column(sa.Column("story_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("signature", sa.LargeBinary(), nullable=True))
        batch_op.create_index(batch_op.f("ix_article_story_id"), ["story_id"], unique=False)
    op.create_table(
        "story_band",
        sa.Column("article_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("band", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"]),
        sa.PrimaryKeyConstraint("article_id", "band"),
    )
    with op.batch_alter_table("story_band", schema=None) as batch_op:
        batch_op.create_index("ix_story_band_value", ["band", "value"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("story_band", schema=None) as batch_op:
        batch_op.drop_index("ix_story_band_value")
    op.drop_table("story_band")
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_story_id"))
        batch_op.drop_column("signature")
        batch_op.drop_column("story_id")
