"""feedback, missed, profile_version and site_key: the profile workbench

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

Readers' verdicts on hits (relevant or not) and the articles they say a profile missed feed
the precision per profile and the suggestions; every profile saved from the web application
or the API is kept as a version that can be restored; a per-database secret signs the
feedback links in alerts.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("hit_id", sa.Integer(), sa.ForeignKey("hit.id"), nullable=False, unique=True),
        sa.Column("relevant", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("given_by", sa.String(length=200), nullable=False),
        sa.Column("given_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_table(
        "missed",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("profile", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("given_by", sa.String(length=200), nullable=False),
        sa.Column("given_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("profile", "url", name="uq_missed_profile_url"),
    )
    op.create_table(
        "profile_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("profile", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("saved_by", sa.String(length=200), nullable=False),
        sa.Column("saved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
    )
    op.create_index("ix_profile_version_profile_saved", "profile_version", ["profile", "saved_at"])
    op.create_table(
        "site_key",
        sa.Column("name", sa.String(length=64), primary_key=True),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("site_key")
    op.drop_index("ix_profile_version_profile_saved", table_name="profile_version")
    op.drop_table("profile_version")
    op.drop_table("missed")
    op.drop_table("feedback")
