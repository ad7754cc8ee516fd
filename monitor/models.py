"""Plain records passed between the stages: no I/O, no clock, no database.

A record lives here when more than one part of the package uses it: what the feed list
configures (FeedSpec), what a feed document and a page yield (Entry, ParsedFeed, WebPage,
Extracted, Article), what the matcher finds (Match), what the store hands the pipeline and the
outbox (DueFeed, StoredEntry, Hit with its Feedback, PendingAlert, PendingMessage, DigestHit)
and what a poll ends with (PollResult, PollRecord). docs/glossary.md names the concepts behind
them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, time
from typing import Any


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One feed as configured in feeds.yaml."""

    url: str
    name: str | None = None
    interval: int | None = None  # seconds; None means the global poll interval
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of a parsed feed document.

    `guid` is the entry's identity within its feed: the feed's GUID, else the canonical link,
    else "sha256:" + a hash of title and date. `content_hash` (sha256 of title and summary,
    whitespace collapsed) changes when the publisher edits a known entry. `date_clamped` marks
    a date that lay after the `now` given to the parser and was replaced by it.
    """

    guid: str
    link: str | None
    title: str
    summary: str
    published_at: datetime | None
    content_hash: str | None = None
    date_clamped: bool = False


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What a feed document yielded: its own title, its entries and any tolerated parse problem.

    `version` is the format ("rss20", "atom10", "rss10", "json11" …); `encoding` the codec the
    bytes were read with and what decided it, e.g. "gb18030 (detected)".
    """

    title: str | None
    entries: list[Entry]
    problem: str | None = None
    version: str | None = None
    encoding: str | None = None
    known_skipped: int = 0  # items dropped unparsed because their GUID was already stored


@dataclass(frozen=True, slots=True)
class WebPage:
    """A fetched "feed" that is a web page announcing feeds (autodiscovery): `alternates`
    lists the feed URLs of its <link rel="alternate"> elements in page order (at least one)."""

    url: str
    alternates: tuple[str, ...]

    @property
    def problem(self) -> str:
        """Why the page is no feed, as a poll's error says it."""
        links = f"{len(self.alternates)} feed link{'' if len(self.alternates) == 1 else 's'}"
        return f"{self.url}: not a feed but a web page ({links} found)"


@dataclass(frozen=True, slots=True)
class Capture:
    """An article page's HTTP exchange as it was fetched, kept as evidence when the article
    has a hit: the request sent and the response read (the body as read, inflated)."""

    url: str  # requested
    final_url: str  # after redirects
    status: int
    reason: str
    http_version: str  # "1.1"
    headers: tuple[tuple[str, str], ...]  # the response's, in order, as sent
    request_headers: tuple[tuple[str, str], ...]
    body: bytes
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class Article:
    """The text and metadata of an entry's page (or of the entry itself when the page failed)."""

    url: str
    title: str
    text: str
    language: str | None = None
    author: str | None = None
    sitename: str | None = None
    published_at: datetime | None = None
    source: str = "page"  # "page": extracted from the fetched page; "entry": the feed's summary
    note: str | None = None  # why the page was not used, when source == "entry"
    signature: bytes | None = (
        None  # MinHash of the text (monitor.pipeline.stories), for near-duplicates
    )
    # the folded title and text as the search index holds them (profiles.candidates
    # .index_text), when the matcher folded them already; None: the store folds them
    search_text: str | None = None
    capture: Capture | None = None  # the page as fetched (source "page"), kept on a hit


@dataclass(frozen=True, slots=True)
class Match:
    """One profile matching one article, as the matcher found it: a hit before it is stored
    (stored and read back with its article and feed, it is a Hit)."""

    profile: str
    profile_version: str
    matched_terms: list[str]
    score: float
    snippet: str
    snippets: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily span (local wall-clock times, may cross midnight) when a channel is not sent to."""

    start: time
    end: time
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """One alert channel from alerts.yaml; `url` has its ${VAR} references already expanded.

    `config` is the text of an Apprise configuration file (YAML or text, ${VAR} expanded),
    used instead of `url`; `format`
    forces the message format (else the service's own preference); `digest` names a digest
    schedule that every alert to this channel waits for; `quiet` holds messages during
    quiet hours; `throttle` overrides Apprise's spacing between messages (5.5 s for e-mail);
    `group` is "article" (one message per article, naming every profile it matched) or
    "profile" (one message per profile).
    """

    key: str  # stable identifier stored with each alert; never contains a secret
    url: str = field(repr=False)
    tags: frozenset[str] = frozenset()
    config: str | None = field(default=None, repr=False)
    format: str | None = None
    digest: str | None = None
    quiet: QuietHours | None = None
    throttle: float | None = None  # seconds between two messages (None: Apprise's own spacing)
    group: str = "article"  # "article": one message per article; "profile": one per profile

    def takes(self, profile_tags: tuple[str, ...]) -> bool:
        """A channel without tags takes every profile; otherwise it needs a shared tag."""
        return not self.tags or bool(self.tags.intersection(profile_tags))


@dataclass(frozen=True, slots=True)
class Route:
    """Where one profile's alert goes: a channel, and the digest it waits for (None: instant)
    with the time that digest is due."""

    channel: str
    digest: str | None = None
    due: datetime | None = None


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """What the monitor knows about how one feed is doing."""

    id: int
    url: str
    name: str | None
    status: str  # new, ok, not_modified, empty, failing, gone, disabled
    error_category: str | None
    error: str | None
    consecutive_failures: int
    last_polled_at: datetime | None
    last_success_at: datetime | None
    next_poll_at: datetime | None
    last_entry_at: datetime | None
    failure_notice_at: datetime | None
    silent_notice_at: datetime | None
    recent_published: tuple[datetime, ...] = ()  # publication dates of its latest entries


@dataclass(frozen=True, slots=True)
class Extracted:
    """What trafilatura found in a page (picklable: it crosses the process boundary)."""

    text: str
    title: str | None
    author: str | None
    sitename: str | None
    language: str | None
    date: str | None  # YYYY-MM-DD from htmldate
    signature: bytes | None = None  # near-duplicate signature, computed here off the main loop


@dataclass(frozen=True, slots=True)
class Hit:
    """One stored hit with its article and feed: as shown, exported and alerted."""

    profile: str
    url: str
    title: str
    feed: str  # the feed's name or title, else its URL
    published_at: datetime | None
    matched_terms: list[str]
    score: float
    snippet: str
    snippets: list[str]
    created_at: datetime
    language: str | None
    profile_version: str
    matched_on: str = "page"  # "page", or "entry" when the page was not used (see note)
    note: str | None = None
    article_id: int = 0
    story_id: int | None = None
    id: int = 0  # the stored hit's id (0: not stored, as in samples)
    feedback: Feedback | None = None  # a reader's verdict, when one was given

    def record(self) -> dict[str, Any]:
        """The hit as it is exported (`monitor hits --format json`, the read API): every
        field, dates in ISO 8601; `feedback` as {"relevant", "note", "at", "by"} or None."""
        exported = asdict(self)
        for key in ("published_at", "created_at"):
            moment = exported[key]
            exported[key] = moment.isoformat() if moment else None
        if self.feedback is not None:
            exported["feedback"]["at"] = self.feedback.at.isoformat()
        return exported


@dataclass(frozen=True, slots=True)
class Feedback:
    """What a reader said about a hit: relevant or not, an optional note, who and when."""

    relevant: bool
    note: str
    at: datetime
    by: str

    @property
    def verdict(self) -> str:
        """ "relevant" or "not relevant", as the pages, the CLI and the CSV show it."""
        return "relevant" if self.relevant else "not relevant"


Outlets = tuple[tuple[str, str], ...]  # (outlet, link) of a story's other articles, in order


@dataclass(frozen=True, slots=True)
class PendingAlert:
    """One alert claimed for delivery, with the hit it is about."""

    id: int
    channel: str
    attempts: int
    hit: Hit
    also: Outlets = ()


@dataclass(frozen=True, slots=True)
class PendingMessage:
    """One digest or notice claimed for delivery."""

    id: int
    channel: str
    key: str
    kind: str  # "digest", or the kind of notice
    title: str | None
    body: str | None
    schedule: str | None
    period_start: datetime | None
    period_end: datetime | None
    attempts: int


@dataclass(frozen=True, slots=True)
class DigestHit:
    """One hit a digest carries, with its story's other outlets and the alert it came from."""

    hit: Hit
    also: Outlets
    alert_id: int


@dataclass(frozen=True, slots=True)
class NoticeDraft:
    """A notice to queue: one message per channel, made once per `key` (a second draft with
    the same key adds nothing). `kind` says what it is about ("spike", "debounce" …)."""

    channels: tuple[str, ...]
    key: str
    kind: str
    title: str
    body: str


@dataclass(frozen=True, slots=True)
class DueFeed:
    """A feed claimed for one poll, with the state the poll needs."""

    id: int
    url: str
    name: str | None
    interval_seconds: int | None
    etag: str | None
    last_modified: str | None
    first_poll: bool
    consecutive_failures: int = 0
    body_hash: str | None = None
    successful_polls: int = 0
    discovered_url: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.url


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """What storing one entry added."""

    article_id: int
    new_hits: int
    new_alerts: int


@dataclass(frozen=True, slots=True)
class PollResult:
    """How one poll of a feed ended: what the poll line logs, the cycle counts and the feed
    row records.

    `status` is "ok", "not_modified", "empty", "error" or "gone". A poll that stored its
    entries keeps the document's validators (`etag`, `last_modified`, `body_hash`) for the
    next conditional request; one where an entry failed leaves them out, so the whole
    document is read again. `discovered_url` is the feed found on a configured web page
    ("" forgets it; None leaves it as it was).
    """

    feed: str  # the feed's label, for the log
    status: str
    http_status: int | None = None
    entries: int = 0
    entries_new: int = 0
    hits: int = 0
    alerts: int = 0
    duration_ms: int = 0
    error: str | None = None
    error_category: str | None = None
    retry_after: float | None = None  # seconds the server asked us to wait (429/503)
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    body_hash: str | None = None
    discovered_url: str | None = None

    @property
    def failed(self) -> bool:
        """The poll counts as a failure for backoff and feed health."""
        return self.status in ("error", "gone")


@dataclass(frozen=True, slots=True)
class PollRecord:
    """A poll's result to store: what happened, when, and when to poll the feed next."""

    feed_id: int
    result: PollResult
    now: datetime
    next_poll_at: datetime
