"""the search index (FTS5 trigram on SQLite, a table of folded texts on PostgreSQL); hit.published

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

Existing articles are indexed here, a thousand at a time (monitor.store.search says what is
indexed and why). On PostgreSQL this revision first put a pg_trgm GIN index on the folded
texts; 0009 turns the texts into trigram keys, so a database upgraded through both no longer
builds that index here only to drop it (one that has it keeps it until 0009 drops it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from monitor.store.search import TABLE, indexed_text

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def upgrade() -> None:
    conn = op.get_bind()
    _hit_published()
    if conn.dialect.name == "postgresql":
        _postgresql(conn)
    else:
        conn.execute(
            sa.text(
                f"CREATE VIRTUAL TABLE {TABLE} USING fts5(body, content='', detail=none, "
                "columnsize=0, tokenize='trigram case_sensitive 1')"
            )
        )
    after = 0
    while True:
        rows = conn.execute(
            sa.text("SELECT id, title, text FROM article WHERE id > :after ORDER BY id LIMIT :n"),
            {"after": after, "n": BATCH},
        ).all()
        if not rows:
            break
        insert = (
            "INSERT INTO article_search (article_id, body) VALUES (:i, :body)"
            if conn.dialect.name == "postgresql"
            else "INSERT INTO article_search (rowid, body) VALUES (:i, :body)"
        )
        conn.execute(
            sa.text(insert),
            [{"i": i, "body": indexed_text(title, body)} for i, title, body in rows],
        )
        after = rows[-1][0]


def _hit_published() -> None:
    """hit.published: its article's publication date (fetch date when it has none)."""
    with op.batch_alter_table("hit", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("published", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    op.execute(
        "UPDATE hit SET published = (SELECT coalesce(article.published_at, article.fetched_at) "
        "FROM article WHERE article.id = hit.article_id)"
    )
    with op.batch_alter_table("hit", schema=None) as batch_op:
        batch_op.create_index("ix_hit_profile_published", ["profile", "published"], unique=False)
        batch_op.create_index(batch_op.f("ix_hit_published"), ["published"], unique=False)


def _postgresql(conn: sa.Connection) -> None:
    op.create_table(
        TABLE,
        sa.Column("article_id", sa.Integer(), sa.ForeignKey("article.id"), primary_key=True),
        sa.Column("body", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.execute(f"DROP TABLE {TABLE}")
    with op.batch_alter_table("hit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hit_published"))
        batch_op.drop_index("ix_hit_profile_published")
        batch_op.drop_column("published")
