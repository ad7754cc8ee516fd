"""The search index over stored articles: which articles may contain some text.

What is indexed is an article's title and text folded the way the matcher folds them
(profiles.normalize: case, width, Traditional → Simplified, …), so a lookup agrees with the
matcher on what "contains" means, with every CJK character written twice ("网信办" as
"网网信信办办"): a two-character Chinese word then spans four characters and the trigram index
finds it, which it cannot do for two characters (../shared/WEB-NOTES.md). A literal that is
still shorter than a gram (one Chinese character, "AI") cannot be looked up: callers get None
from `expression` and scan instead.

Both databases look a literal up as the AND of its trigrams, so the index answers a superset
of the articles, which the matcher then confirms. SQLite: an FTS5 table with the trigram
tokenizer, contentless and without positions (detail=none: the index is a fraction of the
size). PostgreSQL: each article's distinct trigrams as an array of 32-bit keys (CRC-32) under
a GIN index, looked up with `@>` (contains all). GIN answers that from the index alone, where
pg_trgm's LIKE (migration 0008) had to recheck every candidate against its TOASTed text: 142 s
of a 165 s backtest at 1,000,000 articles (docs/benchmarks.md). A key two trigrams share only
adds a candidate.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    Table,
    bindparam,
    false,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY

from monitor.config.secrets import redact_url
from monitor.profiles.candidates import AllOf, Literal, Need, index_form, index_text, narrowed
from monitor.profiles.normalize import fold
from monitor.store.tables import ArticleRow, FeedRow

GRAM = 3
MAX_GRAMS = 24  # trigrams looked up per literal: enough to be selective, the matcher decides
# PostgreSQL: index lookups an AND may expand to (_terms). Backtests at 100,000 articles,
# shipped profiles: 16 to 64 keep candidates within 1 % of each other (great_firewall 31,545
# and 31,498, 0.4 and 0.5 s); 512 finds 4 % fewer for 3.7x the time, 2,048 20 % fewer for 26x.
MAX_TERMS = 64
TABLE = "article_search"
_SIGN = 1 << 31  # (x ^ _SIGN) - _SIGN reads an unsigned 32-bit x as signed

_ARTICLE = ArticleRow.__table__  # type: ignore[attr-defined]
_FEED = FeedRow.__table__  # type: ignore[attr-defined]
# PostgreSQL's index table (migration 0009; SQLite's is an FTS5 virtual table)
_PG_INDEX = Table(
    TABLE,
    MetaData(),
    Column("article_id", Integer, primary_key=True),
    Column("grams", ARRAY(Integer), nullable=False),
)


def indexed_text(title: str, text: str) -> str:
    """What the index holds for an article: folded title and text, CJK characters doubled."""
    return index_text(fold(title)[0], fold(text)[0])


def searchable(literal_text: str) -> bool:
    """Whether the index can look this folded literal up (it spans a whole gram)."""
    return len(index_form(literal_text)) >= GRAM


def usable(need: Need | None) -> Need | None:
    """The part of `need` this index can check (None: nothing; scan)."""
    return narrowed(need, searchable)


def add_to_index(conn: Connection, rows: Iterable[tuple[int, str]]) -> None:
    """Index (article id, indexed_text) pairs, in the caller's transaction."""
    if conn.dialect.name == "postgresql":
        values = [{"article_id": i, "grams": gram_array(body)} for i, body in rows]
        statement = text(
            "INSERT INTO article_search (article_id, grams) VALUES (:article_id, "
            "CAST(:grams AS integer[])) ON CONFLICT DO NOTHING"
        )
    else:
        values = [{"article_id": i, "body": body} for i, body in rows]
        statement = text("INSERT INTO article_search (rowid, body) VALUES (:article_id, :body)")
    if values:
        conn.execute(statement, values)


def gram_array(body: str) -> str:
    """gram_keys as a PostgreSQL array literal: a quarter of the cost of binding the list
    (0.4 against 1.9 ms an article of 2,800 characters)."""
    return "{" + ",".join(map(str, gram_keys(body))) + "}"


def gram_keys(body: str) -> list[int]:
    """PostgreSQL's index entry for an indexed text: its distinct trigrams' keys, sorted."""
    grams = {body[i : i + GRAM] for i in range(len(body) - GRAM + 1)}
    crc = zlib.crc32
    return sorted({(crc(gram.encode()) ^ _SIGN) - _SIGN for gram in grams})


def _key(gram: str) -> int:
    """A trigram's key: its CRC-32 read as a signed 32-bit integer (PostgreSQL's integer)."""
    return (zlib.crc32(gram.encode()) ^ _SIGN) - _SIGN


def forget(conn: Connection, ids: Sequence[int]) -> None:
    """Drop these articles from the index where that is safe: PostgreSQL deletes the rows; a
    contentless FTS5 table can only forget a row given exactly the text it indexed, which a
    recomputation cannot promise, so there the rows stay (searches skip articles without
    text, so a stale row costs a lookup, never a wrong answer)."""
    if ids and conn.dialect.name == "postgresql":
        conn.execute(_PG_INDEX.delete().where(_PG_INDEX.c.article_id.in_(list(ids))))


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    """What a search is narrowed to besides its text; None: no filter. Dates are publication
    dates (an undated article counts from when it was fetched)."""

    feed: str | None = None  # the feed's name, title or URL
    language: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    fetched_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored article the index admits, with what the matcher needs to confirm it."""

    id: int
    url: str
    title: str
    text: str
    language: str | None
    feed: str
    source: str  # feed name and site name, as profiles' `sources` and `source:` see them
    published_at: datetime | None
    fetched_at: datetime


def candidates(
    engine: Engine,
    need: Need | None,
    where: ArticleFilter,
    *,
    before: int | None = None,
    limit: int = 200,
) -> list[Candidate]:
    """Up to `limit` articles, newest stored (highest id) first, below id `before`, that the
    filter keeps and the index says may hold `need` (every article when `need` is None: the
    caller bounds that scan). Articles whose text retention deleted are left out."""
    query = _selected(where, engine.dialect.name, need)
    if before is not None:
        query = query.where(_ARTICLE.c.id < before)
    with engine.connect() as conn:
        if need is not None:
            use_index(conn)
        rows = conn.execute(query.limit(limit)).all()
    return [_candidate(row) for row in rows]


def articles_by_id(engine: Engine, ids: Sequence[int]) -> list[Candidate]:
    """These articles (in the order given, the missing left out), to confirm."""
    found: dict[int, Candidate] = {}
    with engine.connect() as conn:
        for start in range(0, len(ids), 500):
            query = _selected(ArticleFilter(), engine.dialect.name, None).where(
                _ARTICLE.c.id.in_(ids[start : start + 500])
            )
            found.update((row.id, _candidate(row)) for row in conn.execute(query))
    return [found[i] for i in ids if i in found]


def _selected(where: ArticleFilter, dialect: str, need: Need | None) -> Any:
    query = (
        select(
            _ARTICLE.c.id,
            _ARTICLE.c.link,
            _ARTICLE.c.title,
            _ARTICLE.c.text,
            _ARTICLE.c.language,
            _ARTICLE.c.sitename,
            _ARTICLE.c.published_at,
            _ARTICLE.c.fetched_at,
            _FEED.c.name,
            _FEED.c.title.label("feed_title"),
            _FEED.c.url.label("feed_url"),
        )
        .join(_FEED, _FEED.c.id == _ARTICLE.c.feed_id)
        .where(_ARTICLE.c.text != "")
        .order_by(_ARTICLE.c.id.desc())
    )
    published = func.coalesce(_ARTICLE.c.published_at, _ARTICLE.c.fetched_at)
    if where.language is not None:
        query = query.where(language_is(_ARTICLE.c.language, where.language))
    if where.since is not None:
        query = query.where(published >= where.since)
    if where.until is not None:
        query = query.where(published < where.until)
    if where.fetched_since is not None:
        query = query.where(_ARTICLE.c.fetched_at >= where.fetched_since)
    if where.feed is not None:
        name = where.feed
        query = query.where(or_(_FEED.c.name == name, _FEED.c.title == name, _FEED.c.url == name))
    if need is not None:
        query = query.where(_ARTICLE.c.id.in_(lookup(need, dialect)))
    return query


def language_is(column: Any, language: str) -> Any:
    """The language filter: the code itself or one of its variants ("zh" keeps "zh-Hant")."""
    return or_(column == language, column.like(language + "-%"))


def lookup(need: Need, dialect: str) -> Any:
    """SELECT the ids of the articles the index admits for `need`."""
    nothing = select(literal(0)).where(false())  # no article has an empty trigram
    if dialect == "postgresql":
        condition = _contains(need)
        if condition is None:
            return nothing
        # materialized: answered once by the index, never row by row from the keys (use_index)
        found = select(_PG_INDEX.c.article_id).where(condition).cte("found")
        return select(found.prefix_with("MATERIALIZED").c.article_id)
    expression = match_expression(need)
    if expression is None:
        return nothing
    return (
        select(text("rowid"))
        .select_from(text(TABLE))
        .where(text(f"{TABLE} MATCH :match").bindparams(bindparam("match", expression)))
    )


def use_index(conn: Connection) -> None:
    """Before a lookup on PostgreSQL, in its transaction: have the planner use the index. Its
    cost model does not see that testing a row's keys reads them back from TOAST, once per
    term, and it chose a sequential scan for the shipped great_firewall profile (over 120 s
    at 100,000 articles, against 2 s through the index)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_seqscan TO off")
        conn.exec_driver_sql("SET LOCAL jit TO off")  # compiling cost more than it saved


def match_expression(need: Need) -> str | None:
    """The FTS5 MATCH string for `need`: a literal as the AND of its trigrams."""
    if isinstance(need, Literal):
        grams = _grams(index_form(need.text))
        if not grams:
            return None
        return "(" + " AND ".join('"' + gram.replace('"', '""') + '"' for gram in grams) + ")"
    joiner = " AND " if isinstance(need, AllOf) else " OR "
    parts = [match_expression(part) for part in need.parts]
    return "(" + joiner.join(p for p in parts if p is not None) + ")" if any(parts) else None


def _grams(body: str) -> list[str]:
    """The distinct trigrams of `body`, at most MAX_GRAMS of them spread over its length."""
    grams = list(dict.fromkeys(body[i : i + GRAM] for i in range(len(body) - GRAM + 1)))
    if len(grams) <= MAX_GRAMS:
        return grams
    step = len(grams) / MAX_GRAMS
    return [grams[int(i * step)] for i in range(MAX_GRAMS - 1)] + [grams[-1]]


def _contains(need: Need) -> Any | None:
    """PostgreSQL's condition for `need`: an OR of `grams @> keys`, one per way of satisfying
    it (a literal's trigram keys, an AND's keys merged), so that the index answers every
    term: an AND of conditions had the planner scan the index for one of them and test the
    rest on each row's TOASTed keys (17.7 million buffer reads, 43 s, at 100,000 articles).
    None where there is nothing to look up, as in match_expression."""
    terms = _terms(need)
    if not terms:
        return None
    return or_(*(_PG_INDEX.c.grams.contains(sorted(keys)) for keys in terms))


def _terms(need: Need) -> list[frozenset[int]] | None:
    """`need` as an OR of ANDs of trigram keys. An AND whose expansion would pass MAX_TERMS
    leaves out its widest parts: fewer conditions, more candidates, the matcher decides."""
    if isinstance(need, Literal):
        keys = frozenset(_key(gram) for gram in _grams(index_form(need.text)))
        return [keys] if keys else None
    parts = sorted(
        (terms for terms in (_terms(part) for part in need.parts) if terms is not None), key=len
    )
    if not parts:
        return None
    if not isinstance(need, AllOf):
        return list(dict.fromkeys(terms for part in parts for terms in part))
    merged = parts[0]
    for part in parts[1:]:
        if len(merged) * len(part) > MAX_TERMS:
            break
        merged = list(dict.fromkeys(a | b for a in merged for b in part))
    return merged


def _candidate(row: Any) -> Candidate:
    feed = row.name or row.feed_title or redact_url(row.feed_url)
    return Candidate(
        id=row.id,
        url=row.link,
        title=row.title,
        text=row.text,
        language=row.language,
        feed=feed,
        source=" | ".join(
            s for s in (row.name or row.feed_title or row.feed_url, row.sitename) if s
        ),
        published_at=row.published_at,
        fetched_at=row.fetched_at,
    )


def count_articles(engine: Engine, where: ArticleFilter) -> int:
    """How many stored articles with text the filter keeps."""
    query = _selected(where, engine.dialect.name, None).order_by(None)
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(query.subquery())).scalar_one())


def matching_ids(engine: Engine, need: Need | None, where: ArticleFilter) -> list[int]:
    """Every article id the index admits for `need` (every one the filter keeps when None),
    oldest first: a backtest's work list."""
    query = _selected(where, engine.dialect.name, need).with_only_columns(_ARTICLE.c.id)
    with engine.connect() as conn:
        if need is not None:
            use_index(conn)
        ids = [row[0] for row in conn.execute(query)]
    return ids[::-1]
