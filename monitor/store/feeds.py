"""Feed rows: kept in step with feeds.yaml, claimed when due (with a lease), polls recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from monitor.models import DueFeed, FeedHealth, FeedSpec, PollRecord
from monitor.store.engine import insert_ignoring_duplicates
from monitor.store.tables import EntryRow, FeedRow


def sync_feeds(engine: Engine, specs: list[FeedSpec], now: datetime) -> None:
    """Make the feed table follow feeds.yaml: add new feeds, update names and intervals,
    disable feeds no longer listed (their history is kept)."""
    wanted = {spec.url: spec for spec in specs}
    with Session(engine) as session:
        rows = {row.url: row for row in session.exec(select(FeedRow))}
        added = [
            {
                "url": url,
                "name": spec.name,
                "interval_seconds": spec.interval,
                "enabled": spec.enabled,
                "status": "new" if spec.enabled else "disabled",
                "created_at": now,
            }
            for url, spec in wanted.items()
            if url not in rows
        ]
        if added:  # instances starting together add the same feeds: the first one wins
            session.execute(insert_ignoring_duplicates(engine, FeedRow), added)
        for url, spec in wanted.items():
            row = rows.get(url)
            if row is None:
                continue
            row.name = spec.name
            row.interval_seconds = spec.interval
            row.enabled = spec.enabled
            _follow_enabled(row)
            session.add(row)
        for url, row in rows.items():
            if url not in wanted and row.enabled:
                row.enabled = False
                _follow_enabled(row)
                session.add(row)
        session.commit()


def _follow_enabled(row: FeedRow) -> None:
    if not row.enabled:
        row.status = "disabled"
    elif row.status == "disabled":
        row.status = "new"


def claim_due(
    engine: Engine,
    now: datetime,
    *,
    everything: bool = False,
    lease: timedelta,
    limit: int | None = None,
    holder: str | None = None,
) -> list[DueFeed]:
    """Lease the feeds due for a poll (all enabled ones with `everything`), at most `limit`,
    the longest overdue first, for the instance `holder` (its id, recorded with the lease).

    On PostgreSQL rows already locked by another instance are skipped, so instances sharing
    a database take different feeds (`limit` keeps one from taking them all); a lease that is
    not released (a crash) expires after `lease`, so no feed stays claimed forever, and
    before that monitor.store.claims.take_over voids it once its holder falls silent.
    """
    query = select(FeedRow).where(*_due(now, everything=everything))
    query = query.order_by(col(FeedRow.next_poll_at).asc().nulls_first(), col(FeedRow.id))
    if limit is not None:
        query = query.limit(limit)
    with Session(engine) as session:
        rows = list(session.exec(query.with_for_update(skip_locked=True)))
        claimed = [
            DueFeed(
                id=row.id or 0,
                url=row.url,
                name=row.name,
                interval_seconds=row.interval_seconds,
                etag=row.etag,
                last_modified=row.last_modified,
                first_poll=row.successful_polls == 0,
                consecutive_failures=row.consecutive_failures,
                body_hash=row.body_hash,
                successful_polls=row.successful_polls,
                discovered_url=row.discovered_url,
            )
            for row in rows
        ]
        if claimed:
            session.execute(
                update(FeedRow)
                .where(col(FeedRow.id).in_([feed.id for feed in claimed]))
                .values(lease_until=now + lease, claimed_by=holder)
            )
        session.commit()
    return claimed


def count_due(engine: Engine, now: datetime, *, everything: bool = False) -> int:
    """How many feeds claim_due would lease now if nothing limited it (a progress total:
    other instances sharing the database may take some of them first)."""
    query = sa_select(func.count()).select_from(FeedRow).where(*_due(now, everything=everything))
    with Session(engine) as session:
        return int(session.execute(query).scalar_one())


def _due(now: datetime, *, everything: bool) -> list[Any]:
    """The conditions of a feed due for a poll: enabled, not gone, not leased by a poll in
    progress, and (unless `everything`) its next poll time reached."""
    conditions = [
        col(FeedRow.enabled).is_(True),
        col(FeedRow.status) != "gone",
        or_(col(FeedRow.lease_until).is_(None), col(FeedRow.lease_until) < now),
    ]
    if not everything:
        conditions.append(
            or_(col(FeedRow.next_poll_at).is_(None), col(FeedRow.next_poll_at) <= now)
        )
    return conditions


def record_polls(engine: Engine, records: list[PollRecord]) -> None:
    """Store many polls' results in one transaction: one UPDATE statement per shape of
    result, executed for all feeds of that shape at once (a quiet cycle of thousands of
    feeds writes in milliseconds instead of a commit per feed)."""
    shapes: dict[tuple[tuple[str, ...], tuple[str, ...]], list[dict[str, Any]]] = {}
    for record in records:
        values, increments = _poll_values(record)
        shape = (tuple(sorted(values)), increments)
        shapes.setdefault(shape, []).append({f"p_{k}": v for k, v in values.items()})
    with engine.begin() as connection:  # Core, not the ORM session
        # On PostgreSQL, lock the rows in id order first: two instances writing overlapping
        # results (a feed polled again after its lease ran out) then wait for each other
        # instead of deadlocking in the order their results came in.
        ids = sorted({record.feed_id for record in records})
        connection.execute(
            sa_select(col(FeedRow.id))
            .where(col(FeedRow.id).in_(ids))
            .order_by(col(FeedRow.id))
            .with_for_update()
        )
        for (keys, increments), rows in shapes.items():
            assignments: dict[str, Any] = {
                key: bindparam(f"p_{key}") for key in keys if key != "feed_id"
            }
            assignments.update({key: getattr(FeedRow, key) + 1 for key in increments})
            if "title" in assignments:  # a feed that lost its title keeps the one it had
                assignments["title"] = func.coalesce(bindparam("p_title"), FeedRow.title)
            statement = (
                update(FeedRow).where(col(FeedRow.id) == bindparam("p_feed_id")).values(assignments)
            )
            connection.execute(statement, rows)


def _poll_values(record: PollRecord) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The column values of one poll's UPDATE, and the columns to increment by one."""
    result, now = record.result, record.now
    values: dict[str, Any] = {
        "feed_id": record.feed_id,
        "last_polled_at": now,
        "last_status": result.status,
        "status": "failing" if result.status == "error" else result.status,
        "next_poll_at": record.next_poll_at,
        "lease_until": None,
        "claimed_by": None,
    }
    if result.failed:
        values.update(last_error=result.error, error_category=result.error_category)
        increments: tuple[str, ...] = ("consecutive_failures",)
    else:
        values.update(last_error=None, error_category=None, consecutive_failures=0)
        values["last_success_at"] = now
        increments = ("successful_polls",)
        if result.status in ("ok", "empty"):
            values.update(
                etag=result.etag,
                last_modified=result.last_modified,
                title=result.title or None,
                body_hash=result.body_hash,
            )
    if result.entries_new:
        values["last_entry_at"] = now
    if result.discovered_url is not None:
        values["discovered_url"] = result.discovered_url or None
    return values, increments


def extend_leases(engine: Engine, leases: dict[int, datetime], until: datetime) -> None:
    """Move the leases this instance holds (feed id → the lease_until it set) to `until`:
    a poll that runs long keeps its feed. A lease no longer ours (written by a poll's result,
    or taken by another instance after it ran out) is left as it is."""
    if not leases:
        return
    statement = (
        update(FeedRow)
        .where(col(FeedRow.id) == bindparam("p_id"), col(FeedRow.lease_until) == bindparam("p_old"))
        .values(lease_until=until)
    )
    with engine.begin() as connection:
        connection.execute(statement, [{"p_id": i, "p_old": old} for i, old in leases.items()])


def release_leases(engine: Engine, feed_ids: list[int]) -> None:
    """Give feeds back unpolled (shutdown in the middle of a cycle)."""
    if not feed_ids:
        return
    with Session(engine) as session:
        session.execute(
            update(FeedRow)
            .where(col(FeedRow.id).in_(feed_ids))
            .values(lease_until=None, claimed_by=None)
        )
        session.commit()


def feed_rows(engine: Engine) -> dict[str, FeedRow]:
    """Every feed row by URL (for listings)."""
    with Session(engine) as session:
        return {row.url: row for row in session.exec(select(FeedRow))}


RECENT_ENTRIES = 20  # how many of a feed's latest entries tell its publishing rhythm


def feed_health(engine: Engine, *, recent: bool = True) -> list[FeedHealth]:
    """Every feed's health, with the publication dates of its latest entries unless `recent`
    is false (they take a pass over every entry: the pages that show none skip it)."""
    number = (
        func.row_number()
        .over(partition_by=col(EntryRow.feed_id), order_by=col(EntryRow.published_at).desc())
        .label("n")
    )
    latest = (
        sa_select(col(EntryRow.feed_id), col(EntryRow.published_at), number)
        .where(col(EntryRow.published_at).is_not(None))
        .subquery()
    )
    dates: dict[int, list[datetime]] = {}
    with Session(engine) as session:
        if recent:
            for feed_id, published, _n in session.execute(
                sa_select(latest).where(latest.c.n <= RECENT_ENTRIES)
            ):
                dates.setdefault(feed_id, []).append(_aware(published))
        rows = list(session.exec(select(FeedRow).order_by(col(FeedRow.id))))
    return [
        FeedHealth(
            id=row.id or 0,
            url=row.url,
            name=row.name or row.title,
            status=row.status,
            error_category=row.error_category,
            error=row.last_error,
            consecutive_failures=row.consecutive_failures,
            last_polled_at=row.last_polled_at,
            last_success_at=row.last_success_at,
            next_poll_at=row.next_poll_at,
            last_entry_at=row.last_entry_at,
            failure_notice_at=row.failure_notice_at,
            silent_notice_at=row.silent_notice_at,
            recent_published=tuple(dates.get(row.id or 0, [])),
        )
        for row in rows
    ]


def _aware(moment: datetime) -> datetime:
    """Raw rows from a subquery bypass the UTC column type on SQLite: make them aware."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def mark_notice(
    engine: Engine, feed_id: int, kind: str, now: datetime, session: Session | None = None
) -> None:
    """Remember a notice was sent, so it is repeated only when due (inside `session` when given,
    so the notice and its record commit together)."""
    values: dict[str, datetime | None]
    if kind == "silent":
        values = {"silent_notice_at": now}
    elif kind == "recovered":
        values = {"failure_notice_at": None}
    else:  # failing, gone
        values = {"failure_notice_at": now}
    statement = update(FeedRow).where(col(FeedRow.id) == feed_id).values(**values)
    if session is not None:
        session.execute(statement)
        return
    with Session(engine) as own:
        own.execute(statement)
        own.commit()
