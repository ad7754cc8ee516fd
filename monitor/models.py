"""Plain records passed between the stages: no I/O, no clock, no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time


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
    signature: bytes | None = None  # MinHash of the text (monitor.stories), for near-duplicates


@dataclass(frozen=True, slots=True)
class Match:
    """One profile matching one article."""

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
    quiet hours; `throttle` overrides Apprise's spacing between messages (5.5 s for e-mail).
    """

    key: str  # stable identifier stored with each alert; never contains a secret
    url: str = field(repr=False)
    tags: frozenset[str] = frozenset()
    config: str | None = field(default=None, repr=False)
    format: str | None = None
    digest: str | None = None
    quiet: QuietHours | None = None
    throttle: float | None = None  # seconds between two messages (None: Apprise's own spacing)

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
