"""evidence: hit articles' pages kept as fetched, version by version

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

Every article with a hit keeps its page as it was fetched (a WARC file named by the body's
SHA-256, outside the database) and one row per version in `evidence`: when, what the server
answered, what became of the article, where the body is; `evidence_watch` says when each is
looked at again and what was last reported of it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("article_id", sa.Integer(), sa.ForeignKey("article.id"), nullable=False),
        sa.Column("fetched_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("classification", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("text_sha256", sa.String(length=64), nullable=True),
        sa.Column("warc", sa.String(length=255), nullable=True),
        sa.Column("wrote_body", sa.Boolean(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("request_headers", sa.JSON(), nullable=False),
        sa.Column("removed", sa.JSON(), nullable=False),
        sa.Column("added", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
    )
    op.create_index("ix_evidence_article_fetched", "evidence", ["article_id", "fetched_at"])
    op.create_table(
        "evidence_watch",
        sa.Column(
            "article_id",
            sa.Integer(),
            sa.ForeignKey("article.id"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("next_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False, server_default=""),
        sa.Column("etag", sa.String(length=2048), nullable=True),
        sa.Column("last_modified", sa.String(length=200), nullable=True),
        sa.Column("lease_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
    )
    op.create_index("ix_evidence_watch_next", "evidence_watch", ["next_at"])


def downgrade() -> None:
    op.drop_index("ix_evidence_watch_next", table_name="evidence_watch")
    op.drop_table("evidence_watch")
    op.drop_index("ix_evidence_article_fetched", table_name="evidence")
    op.drop_table("evidence")
