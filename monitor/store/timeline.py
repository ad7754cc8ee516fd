"""Hits over time: how many per day or per ISO week (Monday first, UTC), by the publication
date of their article (when it was fetched, for an undated one), grouped in the database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import Date, Engine, cast, func, literal_column, type_coerce
from sqlalchemy import select as sa_select

from monitor.store.tables import HitRow

Bucket = Literal["day", "week"]
STEP = {"day": timedelta(days=1), "week": timedelta(weeks=1)}


def bucket_start(moment: datetime | date, bucket: Bucket) -> date:
    """The first day of the bucket holding `moment` (a naive datetime counts as UTC): its UTC
    day, or the Monday of that day's ISO week."""
    if isinstance(moment, datetime):
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
        moment = moment.date()
    return moment - timedelta(days=moment.weekday()) if bucket == "week" else moment


def bucket_starts(first: datetime | date, last: datetime | date, bucket: Bucket) -> list[date]:
    """The first day of every bucket from the one holding `first` to the one holding `last`,
    oldest first (none when `last` lies in an earlier bucket)."""
    start, end = bucket_start(first, bucket), bucket_start(last, bucket)
    step = STEP[bucket].days
    return [start + timedelta(days=step * n) for n in range((end - start).days // step + 1)]


def hit_counts_by_bucket(
    engine: Engine,
    *,
    profile: str | None,
    bucket: Bucket,
    since: datetime,
    until: datetime,
) -> list[tuple[date, int]]:
    """(first day, hits) of every bucket from the one holding `since` to the one holding
    `until`, zeros included, oldest first; hits of `profile` only, of every profile for None.

    A bucket counts all its hits, also where `since` or `until` fall inside it: whole UTC days
    or ISO weeks. One grouped query over the hit table alone (hit.published carries the
    article's date, indexed with the profile); nothing but the counts leaves the database. An empty
    list when `until` lies in a bucket before `since`'s."""
    starts = bucket_starts(since, until, bucket)
    if not starts:
        return []
    hit = HitRow.__table__  # type: ignore[attr-defined]
    first_day = _bucket_sql(engine.dialect.name, hit.c.published, bucket)
    query = (
        sa_select(first_day, func.count())
        .where(
            hit.c.published >= _midnight(starts[0]),
            hit.c.published < _midnight(starts[-1] + STEP[bucket]),
        )
        .group_by(first_day)
    )
    if profile is not None:
        query = query.where(hit.c.profile == profile)
    with engine.connect() as conn:
        counted: dict[date, int] = dict(conn.execute(query).all())
    return [(start, counted.get(start, 0)) for start in starts]


def _bucket_sql(dialect: str, moment: Any, bucket: Bucket) -> Any:
    """The SQL for the first day of the bucket holding `moment` (stored in UTC), as a date.
    Literal arguments are written into the statement, so that PostgreSQL sees the selected
    expression and the grouped one as the same."""
    if dialect == "postgresql":  # a timestamptz: its UTC wall time, truncated (weeks: Monday)
        utc = func.timezone(literal_column("'UTC'"), moment)
        unit: Any = literal_column({"day": "'day'", "week": "'week'"}[bucket])
        return cast(func.date_trunc(unit, utc), Date)
    # SQLite stores UTC text; a week starts on the Monday at most six days before the day
    modifiers: list[Any] = [literal_column("'-6 days'"), literal_column("'weekday 1'")]
    return type_coerce(func.date(moment, *(modifiers if bucket == "week" else [])), Date)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)
