"""The SQLModel tables. Unique constraints make every write idempotent (re-running a cycle
never duplicates an entry, an article, a hit or an alert). Append changes as migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

URL_LENGTH = 2048


class FeedRow(SQLModel, table=True):
    """A configured feed and its polling state."""

    __tablename__ = "feed"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_column=Column(String(URL_LENGTH), nullable=False, unique=True))
    name: str | None = None
    interval_seconds: int | None = None
    enabled: bool = True
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    next_poll_at: datetime | None = Field(default=None, index=True)
    lease_until: datetime | None = None
    last_polled_at: datetime | None = None
    last_status: str | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    consecutive_failures: int = 0
    successful_polls: int = 0
    created_at: datetime
    # health (migration 0003)
    status: str = Field(default="new", sa_column_kwargs={"server_default": "new"})
    error_category: str | None = None
    last_success_at: datetime | None = None
    last_entry_at: datetime | None = None  # when an entry new to us last appeared
    body_hash: str | None = None  # fingerprint of the last body parsed: unchanged → skip
    failure_notice_at: datetime | None = None
    silent_notice_at: datetime | None = None
    # the feed a configured web page links to (migration 0005); polled instead of the page
    discovered_url: str | None = Field(default=None, sa_column=Column(String(URL_LENGTH)))
    # the instance holding the lease (migration 0010): a silent one's claims are taken over
    claimed_by: str | None = Field(default=None, sa_column=Column(String(64), index=True))


class ArticleRow(SQLModel, table=True):
    """An article page (or an entry's own text when its page failed), keyed by canonical URL."""

    __tablename__ = "article"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_column=Column(String(URL_LENGTH), nullable=False, unique=True))
    link: str = Field(sa_column=Column(String(URL_LENGTH), nullable=False))
    feed_id: int = Field(sa_column=Column(Integer, ForeignKey("feed.id"), nullable=False))
    title: str = Field(sa_column=Column(Text, nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    language: str | None = None
    author: str | None = None
    sitename: str | None = None
    published_at: datetime | None = None
    source: str  # "page" or "entry"
    note: str | None = Field(default=None, sa_column=Column(Text))
    fetched_at: datetime
    # stories (migration 0004): near-duplicates share the story_id of the first of them
    story_id: int | None = Field(default=None, index=True)
    signature: bytes | None = Field(default=None, sa_column=Column(LargeBinary))


class StoryBandRow(SQLModel, table=True):
    """One band of an article's MinHash signature: articles sharing a band are candidates."""

    __tablename__ = "story_band"
    __table_args__ = (Index("ix_story_band_value", "band", "value"),)

    article_id: int = Field(
        sa_column=Column(Integer, ForeignKey("article.id"), primary_key=True, autoincrement=False)
    )
    band: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    value: int = Field(sa_column=Column(BigInteger, nullable=False))


class EntryRow(SQLModel, table=True):
    """One feed item seen, pointing at its article."""

    __tablename__ = "entry"
    __table_args__ = (UniqueConstraint("feed_id", "guid", name="uq_entry_feed_guid"),)

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(sa_column=Column(Integer, ForeignKey("feed.id"), nullable=False))
    guid: str = Field(sa_column=Column(String(URL_LENGTH), nullable=False))
    link: str | None = Field(default=None, sa_column=Column(String(URL_LENGTH)))
    title: str = Field(sa_column=Column(Text, nullable=False))
    published_at: datetime | None = None
    article_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("article.id"), index=True)
    )
    seen_at: datetime
    content_hash: str | None = None  # title + summary: an edit of a known entry alerts no one


class HitRow(SQLModel, table=True):
    """One article matching one profile."""

    __tablename__ = "hit"
    __table_args__ = (
        UniqueConstraint("article_id", "profile", name="uq_hit_article_profile"),
        Index("ix_hit_profile_created", "profile", "created_at"),
        Index("ix_hit_profile_published", "profile", "published"),
    )

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(sa_column=Column(Integer, ForeignKey("article.id"), nullable=False))
    profile: str = Field(sa_column=Column(String(200), nullable=False))
    profile_version: str
    matched_terms: list[Any] = Field(
        sa_column=Column(JSON().with_variant(JSONB(), "postgresql"), nullable=False)
    )
    score: float
    snippet: str = Field(sa_column=Column(Text, nullable=False))
    snippets: list[Any] = Field(
        default_factory=list,
        sa_column=Column(
            JSON().with_variant(JSONB(), "postgresql"), nullable=False, server_default="[]"
        ),
    )
    created_at: datetime = Field(index=True)
    # the article's publication date, its fetch date when it has none (migration 0008): hits
    # counted and filtered by date without reading the article table
    published: datetime | None = Field(default=None, index=True)


class AlertRow(SQLModel, table=True):
    """The outbox: one message about one hit to one channel, pending until delivered."""

    __tablename__ = "alert"
    __table_args__ = (
        UniqueConstraint("hit_id", "channel", name="uq_alert_hit_channel"),
        Index("ix_alert_status_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    hit_id: int = Field(sa_column=Column(Integer, ForeignKey("hit.id"), nullable=False))
    channel: str = Field(sa_column=Column(String(200), nullable=False))
    status: str = "pending"  # pending → sent | failed; queued → digested (waiting for a digest)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime
    next_attempt_at: datetime  # for a queued alert: when its digest is due
    sent_at: datetime | None = None
    # digests (migration 0006): the schedule name ("debounce" for a debounced profile) and,
    # once the digest is made, the message that carries this alert
    digest: str | None = Field(default=None, sa_column=Column(String(200)))
    message_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("message.id"), index=True)
    )
    claimed_by: str | None = Field(default=None, sa_column=Column(String(64)))  # migration 0010


class MessageRow(SQLModel, table=True):
    """The outbox for everything that is not one hit: a digest (its hits are the alert rows
    pointing here) or a notice (title and body stored). `key` makes each one unique per channel:
    "digest:daily:2026-12-03T08:00:00+00:00", "feed-failing:12:…", "spike:gfw:…"."""

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("channel", "key", name="uq_message_channel_key"),
        Index("ix_message_status_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(sa_column=Column(String(200), nullable=False))
    key: str = Field(sa_column=Column(String(400), nullable=False))
    kind: str = Field(sa_column=Column(String(40), nullable=False))  # "digest" or a notice kind
    title: str | None = Field(default=None, sa_column=Column(Text))
    body: str | None = Field(default=None, sa_column=Column(Text))
    schedule: str | None = Field(default=None, sa_column=Column(String(200)))
    period_start: datetime | None = None
    period_end: datetime | None = None
    status: str = "pending"  # pending → sent | failed
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None = None
    claimed_by: str | None = Field(default=None, sa_column=Column(String(64)))  # migration 0010


class InstanceRow(SQLModel, table=True):
    """A `monitor run` process using this database (migration 0007): who and where it is, when
    it was last heard of, and what its last successful cycle did."""

    __tablename__ = "instance"

    id: str = Field(sa_column=Column(String(64), primary_key=True))  # uuid4 hex, per process
    host: str = Field(sa_column=Column(String(255), nullable=False))
    pid: int
    version: str = Field(sa_column=Column(String(40), nullable=False))
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None = None
    last_cycle_at: datetime | None = None  # end of the last successful cycle
    last_cycle: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class FeedbackRow(SQLModel, table=True):
    """What a reader said about a hit (migration 0011): relevant or not, with an optional
    note; one verdict a hit, the latest (who gave it and when)."""

    __tablename__ = "feedback"

    id: int | None = Field(default=None, primary_key=True)
    hit_id: int = Field(
        sa_column=Column(Integer, ForeignKey("hit.id"), nullable=False, unique=True)
    )
    relevant: bool
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    given_by: str = Field(sa_column=Column(String(200), nullable=False))
    given_at: datetime


class MissedRow(SQLModel, table=True):
    """An article a reader says a profile should have matched (migration 0011): its address
    and the text read from it, for the suggestions of additions."""

    __tablename__ = "missed"
    __table_args__ = (UniqueConstraint("profile", "url", name="uq_missed_profile_url"),)

    id: int | None = Field(default=None, primary_key=True)
    profile: str = Field(sa_column=Column(String(200), nullable=False))
    url: str = Field(sa_column=Column(String(URL_LENGTH), nullable=False))
    title: str = Field(sa_column=Column(Text, nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    language: str | None = Field(default=None, sa_column=Column(String(35)))
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    given_by: str = Field(sa_column=Column(String(200), nullable=False))
    given_at: datetime


class ProfileVersionRow(SQLModel, table=True):
    """A profile file as saved from the web application or the API (migration 0011): the
    whole text, who saved it and when; the file on disk stays what the service reads."""

    __tablename__ = "profile_version"
    __table_args__ = (Index("ix_profile_version_profile_saved", "profile", "saved_at"),)

    id: int | None = Field(default=None, primary_key=True)
    profile: str = Field(sa_column=Column(String(200), nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    saved_by: str = Field(sa_column=Column(String(200), nullable=False))
    saved_at: datetime
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class SiteKeyRow(SQLModel, table=True):
    """A secret made once per database and shared by every instance using it (migration
    0011): the key that signs the feedback links in alerts."""

    __tablename__ = "site_key"

    name: str = Field(sa_column=Column(String(64), primary_key=True))
    value: str = Field(sa_column=Column(String(128), nullable=False))
    created_at: datetime


class EvidenceRow(SQLModel, table=True):
    """One version of a hit article's page (migration 0012): when it was fetched, what the
    server answered, what became of the article (`classification`: original, unchanged,
    edited, removed, unreachable, with the reason and the changed sentences), and where its
    body is kept: a WARC file named by the body's SHA-256 (monitor.store.warcfiles), written
    by the first version with that body (`wrote_body`); later ones are revisits of it."""

    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_article_fetched", "article_id", "fetched_at"),)

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(sa_column=Column(Integer, ForeignKey("article.id"), nullable=False))
    fetched_at: datetime
    url: str = Field(sa_column=Column(String(URL_LENGTH), nullable=False))  # after redirects
    http_status: int | None = None  # None: no answer
    classification: str = Field(sa_column=Column(String(16), nullable=False))
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    sha256: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    text_sha256: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    warc: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    wrote_body: bool = False
    headers: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    request_headers: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    removed: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    added: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # the extracted text, when it differs from the version before (the original, an edit)
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class EvidenceWatchRow(SQLModel, table=True):
    """A hit article whose page is looked at again (migration 0012): when next, how many
    re-checks are done, how many failed in a row, the state last reported (original, edited,
    removed, unreachable) and the text the next re-check compares with; leased to the
    instance re-checking it, as feeds are to the one polling them."""

    __tablename__ = "evidence_watch"
    __table_args__ = (Index("ix_evidence_watch_next", "next_at"),)

    article_id: int = Field(
        sa_column=Column(Integer, ForeignKey("article.id"), primary_key=True, autoincrement=False)
    )
    next_at: datetime | None = None  # None: the schedule is done
    step: int = 0  # re-checks done
    failures: int = 0  # unanswered re-checks in a row
    state: str = Field(default="original", sa_column=Column(String(16), nullable=False))
    text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    etag: str | None = Field(default=None, sa_column=Column(String(URL_LENGTH), nullable=True))
    last_modified: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    lease_until: datetime | None = None
    claimed_by: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
