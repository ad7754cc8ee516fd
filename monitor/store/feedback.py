"""Readers' feedback on hits: one verdict a hit (relevant or not, with a note, who and when),
replaced when given again; the precision it gives each profile; the labelled hits and the
missed articles (those a reader says a profile should have matched) that suggestions learn
from."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, case, delete, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from monitor.models import Feedback, Hit
from monitor.store.tables import ArticleRow, FeedbackRow, HitRow, MissedRow

CHUNK = 500  # hit ids per IN (…) list
NOTE_MAX = 2000  # characters of a note kept
BY_MAX = 200  # characters of a name kept (the column's size)


class NoSuchHit(LookupError):
    """Feedback on a hit that is not stored."""

    def __init__(self, hit_id: int) -> None:
        super().__init__(f"no hit {hit_id}")
        self.hit_id = hit_id


@dataclass(frozen=True, slots=True)
class Precision:
    """A profile's hits judged by readers: how many, and how many of them were relevant."""

    relevant: int
    judged: int

    @property
    def value(self) -> float | None:
        """relevant / judged; None while nothing is judged."""
        return self.relevant / self.judged if self.judged else None

    def shown(self) -> str:
        """ "0.83 (24)": the precision and the count it rests on; "-" with no feedback."""
        value = self.value
        return "-" if value is None else f"{value:.2f} ({self.judged})"


@dataclass(frozen=True, slots=True)
class LabelledHit:
    """A hit with its verdict and its article's text, for the suggestions."""

    hit_id: int
    article_id: int
    title: str
    text: str | None  # None once retention deleted it
    language: str | None
    relevant: bool
    note: str


@dataclass(frozen=True, slots=True)
class MissedArticle:
    """An article a reader says `profile` should have matched, with the text read from it."""

    id: int
    profile: str
    url: str
    title: str
    text: str
    language: str | None
    note: str
    given_by: str
    given_at: datetime


def give_feedback(
    engine: Engine, hit_id: int, relevant: bool, note: str, by: str, at: datetime
) -> Feedback:
    """Record a verdict on a hit, replacing the one it had; NoSuchHit when it is not stored."""
    values = {
        "relevant": relevant,
        "note": note.strip()[:NOTE_MAX],
        "given_by": by[:BY_MAX],
        "given_at": at,
    }
    with Session(engine) as session:
        if session.get(HitRow, hit_id) is None:
            raise NoSuchHit(hit_id)
        statement = _insert(engine, FeedbackRow).values(hit_id=hit_id, **values)
        statement = statement.on_conflict_do_update(index_elements=["hit_id"], set_=values)
        session.execute(statement)
        session.commit()
    return Feedback(relevant, str(values["note"]), at, str(values["given_by"]))


def _insert(engine: Engine, row: type[FeedbackRow | MissedRow]) -> Any:
    """An INSERT into `row`'s table in this engine's dialect (which has ON CONFLICT)."""
    table: Any = getattr(row, "__table__")  # noqa: B009  (SQLModel sets it on table classes)
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert  # noqa: PLC0415

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert  # noqa: PLC0415

    return sqlite_insert(table)


def clear_feedback(engine: Engine, hit_id: int) -> bool:
    """Forget the verdict on a hit; whether it had one. NoSuchHit when it is not stored."""
    with Session(engine) as session:
        if session.get(HitRow, hit_id) is None:
            raise NoSuchHit(hit_id)
        gone = session.execute(delete(FeedbackRow).where(col(FeedbackRow.hit_id) == hit_id))
        session.commit()
        return bool(gone.rowcount)  # type: ignore[attr-defined]


def feedback_for(session: Session, hit_ids: Iterable[int]) -> dict[int, Feedback]:
    """The verdicts on these hits (those that have one), by hit id: one query per CHUNK ids."""
    wanted = sorted(set(hit_ids))
    found: dict[int, Feedback] = {}
    for start in range(0, len(wanted), CHUNK):
        rows = session.execute(
            sa_select(FeedbackRow).where(col(FeedbackRow.hit_id).in_(wanted[start : start + CHUNK]))
        ).scalars()
        for row in rows:
            found[row.hit_id] = Feedback(row.relevant, row.note, row.given_at, row.given_by)
    return found


def with_feedback(session: Session, hits: Sequence[Hit]) -> list[Hit]:
    """`hits` with their verdicts: one query for the lot (per CHUNK hits)."""
    verdicts = feedback_for(session, (hit.id for hit in hits if hit.id))
    return [replace(hit, feedback=verdicts[hit.id]) if hit.id in verdicts else hit for hit in hits]


def precision(engine: Engine, profile: str | None = None) -> dict[str, Precision]:
    """Per profile with feedback (only `profile`, when given): its judged hits and the
    relevant ones among them."""
    relevant = func.sum(case((col(FeedbackRow.relevant), 1), else_=0))
    query = (
        sa_select(col(HitRow.profile), func.count(), relevant)
        .select_from(FeedbackRow)
        .join(HitRow, col(HitRow.id) == FeedbackRow.hit_id)
        .group_by(col(HitRow.profile))
    )
    if profile is not None:
        query = query.where(col(HitRow.profile) == profile)
    with Session(engine) as session:
        rows = session.execute(query).all()
    return {profile: Precision(int(good or 0), int(judged)) for profile, judged, good in rows}


def labelled_hits(engine: Engine, profile: str) -> list[LabelledHit]:
    """The hits of `profile` that have a verdict, oldest first, with their articles' text."""
    query = (
        sa_select(
            col(HitRow.id),
            col(HitRow.article_id),
            col(ArticleRow.title),
            col(ArticleRow.text),
            col(ArticleRow.language),
            col(FeedbackRow.relevant),
            col(FeedbackRow.note),
        )
        .select_from(FeedbackRow)
        .join(HitRow, col(HitRow.id) == FeedbackRow.hit_id)
        .join(ArticleRow, col(ArticleRow.id) == HitRow.article_id)
        .where(col(HitRow.profile) == profile)
        .order_by(col(HitRow.id))
    )
    with Session(engine) as session:
        rows = session.execute(query).all()
    return [
        LabelledHit(hit_id, article_id, title, text or None, language, relevant, note)
        for hit_id, article_id, title, text, language, relevant, note in rows
    ]


def add_missed(
    engine: Engine,
    profile: str,
    *,
    url: str,
    title: str,
    text: str,
    language: str | None,
    note: str,
    by: str,
    at: datetime,
) -> MissedArticle:
    """Keep an article `profile` should have matched; the same URL again replaces it."""
    values = {
        "title": title,
        "text": text,
        "language": language,
        "note": note.strip()[:NOTE_MAX],
        "given_by": by[:BY_MAX],
        "given_at": at,
    }
    statement = _insert(engine, MissedRow).values(profile=profile, url=url, **values)
    statement = statement.on_conflict_do_update(index_elements=["profile", "url"], set_=values)
    with Session(engine) as session:
        session.execute(statement)
        session.commit()
        row = session.execute(
            sa_select(MissedRow).where(col(MissedRow.profile) == profile, col(MissedRow.url) == url)
        ).scalar_one()
        return _missed(row)


def missed_articles(engine: Engine, profile: str) -> list[MissedArticle]:
    """The articles readers say `profile` missed, oldest first."""
    with Session(engine) as session:
        rows = session.execute(
            sa_select(MissedRow)
            .where(col(MissedRow.profile) == profile)
            .order_by(col(MissedRow.given_at), col(MissedRow.id))
        ).scalars()
        return [_missed(row) for row in rows]


def _missed(row: MissedRow) -> MissedArticle:
    assert row.id is not None
    return MissedArticle(
        row.id,
        row.profile,
        row.url,
        row.title,
        row.text,
        row.language,
        row.note,
        row.given_by,
        row.given_at,
    )
