"""Looking again at hit articles: the due ones (at most `per_cycle` a cycle, the longest
overdue first) are fetched again, politely (the fetcher's per-host limits, a conditional
request with the validators the last version had), their text extracted, the answer
classified (classify.py) and recorded with its version, its kept body and its notice in one
transaction (monitor.store.evidencewatch), so that a re-check interrupted anywhere is done
again whole and never recorded or announced twice.

What each verdict does to the article's watch:
- unchanged, edited, removed: a version is recorded and the schedule moves on (the next
  delay of `evidence.recheck`; after the last, the article is no longer looked at). An edit
  replaces the text the next re-check compares with, and is announced; a removal is
  announced when the article was not already reported removed.
- unreachable: tried again after `evidence.retry`; recorded (not announced) only after
  `evidence.unreachable_after` in a row, when it was not already reported so.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

from monitor.errors import ExtractError, FetchError, FetchStatus
from monitor.evidence.classify import Fetched, Verdict, classify
from monitor.evidence.notices import notice_of
from monitor.ingest.fetch import Response
from monitor.models import Capture, Extracted
from monitor.store.evidence import text_sha256
from monitor.store.evidencewatch import Found, Notice, Watched
from monitor.store.warcfiles import Kept

log = logging.getLogger("monitor.evidence")


class Fetch(Protocol):
    async def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Response: ...


class Extract(Protocol):
    async def extract(self, html: bytes, url: str) -> Extracted | None: ...


class Watches(Protocol):
    """The watch list (monitor.store.evidencewatch.Watches)."""

    def claim_due(self, now: datetime, *, limit: int, everything: bool) -> list[Watched]: ...
    def keep(self, capture: Capture) -> Kept | None: ...
    def record(
        self, watched: Watched, found: Found, now: datetime, notice: Notice | None
    ) -> bool: ...
    def release(self, article_ids: Sequence[int]) -> None: ...


@dataclass(frozen=True, slots=True)
class Plan:
    """The settings of evidence.* that re-checks follow."""

    schedule: tuple[float, ...]  # evidence.recheck
    retry: float
    unreachable_after: int
    per_cycle: int
    concurrency: int = 4  # re-checks in flight at once (each also waits for its host's slot)


@dataclass
class Rechecked:
    """A pass's counts: re-checks recorded per verdict, and notices queued."""

    verdicts: Counter[str] = field(default_factory=Counter)
    notices: int = 0
    lost: int = 0  # recorded by another instance first

    @property
    def checked(self) -> int:
        return sum(self.verdicts.values())


async def recheck_due(
    watches: Watches,
    fetch: Fetch,
    extract: Extract,
    plan: Plan,
    channels_for: Callable[[tuple[str, ...]], tuple[str, ...]],
    clock: Callable[[], datetime],
    *,
    everything: bool = False,
) -> Rechecked:
    """Re-check the due articles (all watched ones with `everything`, as many as
    `plan.per_cycle`); `channels_for` names the channels of some profiles' notices."""
    if not plan.schedule:
        return Rechecked()
    now = clock()
    due = await asyncio.to_thread(
        watches.claim_due, now, limit=plan.per_cycle, everything=everything
    )
    done = Rechecked()
    gate = asyncio.Semaphore(plan.concurrency)
    probes: dict[str, asyncio.Task[Fetched | None]] = {}
    pending = {w.article_id for w in due}

    async def one(watched: Watched) -> None:
        async with gate:
            try:
                found, notice = await _check(watched, fetch, extract, plan, probes, clock)
            except Exception:  # one page's surprise must not stop the others, or polling
                log.exception("re-check of %s failed; it is tried again later", watched.url)
                pending.discard(watched.article_id)  # kept leased: a later pass takes it up
                return
            if found.record_version and found.capture is not None:
                kept = await asyncio.to_thread(watches.keep, found.capture)
                found = replace(found, kept=kept)
            channels = channels_for(watched.profiles) if notice else ()
            if notice is not None and channels:
                notice = Notice(channels, notice.title, notice.body)
            else:
                notice = None
            recorded = await asyncio.to_thread(watches.record, watched, found, clock(), notice)
            pending.discard(watched.article_id)
            if not recorded:
                done.lost += 1
                return
            done.verdicts[found.classification if found.record_version else "retry"] += 1
            done.notices += notice is not None

    try:
        await asyncio.gather(*(one(w) for w in due))
    finally:
        if pending:  # stopped part-way: the rest are given back, not left leased
            await asyncio.to_thread(watches.release, sorted(pending))
    return done


async def _check(
    watched: Watched,
    fetch: Fetch,
    extract: Extract,
    plan: Plan,
    probes: dict[str, asyncio.Task[Fetched | None]],
    clock: Callable[[], datetime],
) -> tuple[Found, Notice | None]:
    fetched, capture = await _fetch(watched, fetch, extract, clock)
    verdict = classify(watched.url, watched.text, fetched)
    if verdict.kind == "edited":  # a "not found" page served as 200 reads as a rewrite
        probe = await _probe(fetched.url or watched.url, fetch, extract, probes, clock)
        if probe is not None:
            verdict = classify(watched.url, watched.text, fetched, probe)
    return _found(watched, verdict, fetched, capture, plan, clock())


async def _fetch(
    watched: Watched, fetch: Fetch, extract: Extract, clock: Callable[[], datetime]
) -> tuple[Fetched, Capture | None]:
    """The page again: what classify reads, and the exchange to keep (None: no answer)."""
    try:
        response = await fetch.get(
            watched.url, etag=watched.etag, last_modified=watched.last_modified
        )
    except FetchStatus as exc:
        return Fetched(exc.status, watched.url, reason=exc.reason), None
    except FetchError as exc:
        return Fetched(None, watched.url, reason=exc.reason), None
    if response.not_modified:
        return Fetched(304, response.url, text=watched.text), None
    capture = response.capture(watched.url, clock())
    try:
        extracted = await extract.extract(response.body, response.url)
    except ExtractError as exc:
        log.warning("re-check of %s: %s", watched.url, exc)
        extracted = None
    text, title = (extracted.text, extracted.title or "") if extracted else ("", "")
    return Fetched(response.status, response.url, text=text, title=title), capture


async def _probe(
    url: str,
    fetch: Fetch,
    extract: Extract,
    probes: dict[str, asyncio.Task[Fetched | None]],
    clock: Callable[[], datetime],
) -> Fetched | None:
    """What the site answers for an address that cannot exist, beside the article (a random
    name in its folder: sites answer a soft 404 by section), once per folder and pass."""
    parts = urlsplit(url)
    folder = parts.path.rsplit("/", 1)[0]
    where = f"{parts.scheme}://{parts.netloc}{folder}"
    if where not in probes:
        missing = f"{where}/{secrets.token_hex(12)}-no-such-page"
        probes[where] = asyncio.ensure_future(_fetch_text(missing, fetch, extract, clock))
    fetched = await probes[where]
    return fetched if fetched is not None and fetched.status == 200 and fetched.text else None


async def _fetch_text(
    url: str, fetch: Fetch, extract: Extract, clock: Callable[[], datetime]
) -> Fetched | None:
    blank = Watched(0, url, "", 0, 0, "", "", None, None, ())
    fetched, _ = await _fetch(blank, fetch, extract, clock)
    return fetched


def _found(
    watched: Watched,
    verdict: Verdict,
    fetched: Fetched,
    capture: Capture | None,
    plan: Plan,
    now: datetime,
) -> tuple[Found, Notice | None]:
    """The watch after this verdict, the version to record and the notice to send."""
    step, text = watched.step + 1, fetched.text
    following = None
    if step < len(plan.schedule):
        following = now + timedelta(seconds=_gap(plan.schedule, step))
    headers = {name.lower(): value for name, value in capture.headers} if capture else {}
    base = Found(
        classification=verdict.kind,
        reason=verdict.reason or fetched.reason,
        http_status=fetched.status,
        url=fetched.url,
        next_at=following,
        step=step,
        failures=0,
        state=watched.state,
        text=watched.text,
        capture=capture,
        etag=headers.get("etag", watched.etag),
        last_modified=headers.get("last-modified", watched.last_modified),
    )
    if verdict.kind == "unreachable":
        failures = watched.failures + 1
        if failures < plan.unreachable_after:
            retry = now + timedelta(seconds=plan.retry)
            waiting = replace(
                base, next_at=retry, step=watched.step, failures=failures, record_version=False
            )
            return waiting, None
        reported = watched.state == "unreachable"
        return replace(base, state="unreachable", record_version=not reported), None
    found = replace(
        base,
        state=verdict.kind if verdict.kind != "unchanged" else _settled(watched.state),
        text=text if verdict.kind == "edited" else watched.text,
        text_sha256=text_sha256(text) if capture is not None and text else None,
        removed=verdict.removed,
        added=verdict.added,
    )
    announce = verdict.kind == "edited" or (
        verdict.kind == "removed" and watched.state != "removed"
    )
    return found, notice_of(watched, verdict) if announce else None


def _settled(state: str) -> str:
    """The state an unchanged re-check leaves: an article back after a removal or a failure
    is there again, unchanged; an edited one stays edited."""
    return "edited" if state == "edited" else "unchanged"


def _gap(schedule: tuple[float, ...], step: int) -> float:
    """Seconds from re-check `step - 1` to re-check `step` (delays count from the original)."""
    return schedule[step] - schedule[step - 1]
