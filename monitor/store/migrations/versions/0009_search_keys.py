"""PostgreSQL's search index as trigram keys under a GIN index (SQLite: unchanged)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

0008's table held each article's folded text, found with LIKE through pg_trgm, which must
reread the text of every candidate: a backtest over a million articles spent 142 s of its
165 there. This table holds the text's distinct trigrams as integer keys
(monitor.store.search.gram_keys) under a built-in GIN index that answers `@>` by itself, as
FTS5 does on SQLite; no extension is needed. The texts 0008 stored are turned into keys a
thousand at a time, into a new table that then takes the old one's name.
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from monitor.store.search import gram_array, indexed_text

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
TABLE = "article_search"
NEXT = "article_search_next"
log = logging.getLogger("monitor.store")


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    op.create_table(
        NEXT,
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("grams", postgresql.ARRAY(sa.Integer()), nullable=False),
        sa.PrimaryKeyConstraint("article_id", name=f"{NEXT}_pkey"),  # renamed below
        # a foreign key's name is the table's own: the one it will have
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], name=f"{TABLE}_article_id_fkey"),
    )
    total = conn.execute(sa.text("SELECT count(*) FROM article_search")).scalar_one()
    if total:
        log.info("search: turning %d indexed texts into trigram keys", total)
    after = -1
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT article_id, body FROM article_search WHERE article_id > :after "
                "ORDER BY article_id LIMIT :n"
            ),
            {"after": after, "n": BATCH},
        ).all()
        if not rows:
            break
        conn.execute(
            sa.text(
                "INSERT INTO article_search_next (article_id, grams) "
                "VALUES (:i, CAST(:grams AS integer[]))"
            ),
            [{"i": i, "grams": gram_array(body)} for i, body in rows],
        )
        after = rows[-1][0]
    op.drop_table(TABLE)  # and pg_trgm's index on it, where 0008 made one
    op.rename_table(NEXT, TABLE)
    op.execute(f"ALTER INDEX {NEXT}_pkey RENAME TO {TABLE}_pkey")
    op.execute(f"CREATE INDEX ix_{TABLE}_grams ON {TABLE} USING gin (grams)")
    if total:  # the planner's statistics of the keys, before autovacuum would gather them
        op.execute(f"ANALYZE {TABLE}")


def downgrade() -> None:
    """Back to 0008's table of folded texts, made again from the articles (without pg_trgm's
    index: create it by hand where wanted, as 0008's history describes)."""
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    op.drop_table(TABLE)
    op.create_table(
        TABLE,
        sa.Column("article_id", sa.Integer(), sa.ForeignKey("article.id"), primary_key=True),
        sa.Column("body", sa.Text(), nullable=False),
    )
    after = -1
    while True:
        rows = conn.execute(
            sa.text("SELECT id, title, text FROM article WHERE id > :after ORDER BY id LIMIT :n"),
            {"after": after, "n": BATCH},
        ).all()
        if not rows:
            break
        conn.execute(
            sa.text("INSERT INTO article_search (article_id, body) VALUES (:i, :body)"),
            [{"i": i, "body": indexed_text(title, text)} for i, title, text in rows],
        )
        after = rows[-1][0]
