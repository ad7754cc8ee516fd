"""Trying a profile before it is saved, for the editor's panels and the API: an unsaved query
(with the settings of the profile it would replace) tested on a pasted text, a page fetched
from a URL or a stored article, and backtested over the archive."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from monitor.archive.backtest import Backtest, backtest
from monitor.config.bounds import moment_since
from monitor.config.settings import FetchSettings
from monitor.errors import FetchError
from monitor.ingest.language import detect_language
from monitor.ingest.pagedoc import NoArticle, download, page_doc
from monitor.profiles.files import current_concepts, current_profiles
from monitor.profiles.matcher import Matcher, Outcome, outcome
from monitor.profiles.profile import Doc, Profile
from monitor.profiles.report import ad_hoc_profile
from monitor.store.archive import article_by_id
from monitor.store.search import Candidate

BACKTEST_SHOWN = 200  # added or removed articles listed at most (all are counted)


class TrialError(ValueError):
    """What the user gave cannot be tried (no text, a page without article text, …)."""


def trial_profile(config_dir: Path, name: str | None, query: str) -> Profile:
    """`query` as profile `name` would run it (its languages, sources, minimum score, focus
    and learned check), or alone when there is no such profile. QueryError when it does not
    parse."""
    concepts = current_concepts(config_dir)
    base = next((p for p in current_profiles(config_dir) if p.name == name), None)
    alone = ad_hoc_profile(query, concepts, where="query")
    if base is None:
        return alone
    return replace(base, query=alone.query, query_text=query, warnings=alone.warnings)


def saved_profile(config_dir: Path, name: str) -> Profile | None:
    return next((p for p in current_profiles(config_dir) if p.name == name), None)


def test_on(profile: Profile, doc: Doc) -> Outcome:
    return outcome(Matcher([profile]).evaluation(profile, doc))


def pasted_doc(text: str, title: str = "") -> Doc:
    if not text.strip():
        raise TrialError("paste a text, give a URL or pick a stored article to test on")
    return Doc(title=title, text=text, language=detect_language(f"{title}\n{text}"))


def stored_doc(engine: Engine, article_id: int) -> Doc:
    found = article_by_id(engine, article_id)
    if found is None:
        raise TrialError(f"there is no stored article {article_id}")
    if not found.text:
        raise TrialError(f"article {article_id}'s text is no longer kept (retention)")
    return Doc(found.title, found.text, found.url, found.feed or "", found.language)


async def fetched_doc(fetch: FetchSettings, url: str, title: str = "") -> Doc:
    """The page at `url`, fetched as a configured feed's pages are (the same limits and
    address rules), its article text extracted."""
    if not url.startswith(("http://", "https://")):
        raise TrialError(f"{url!r}: give an http:// or https:// address")
    try:
        return page_doc(await download(fetch, url), url, title)
    except (FetchError, NoArticle) as exc:
        raise TrialError(str(exc)) from None


def since_of(value: str | None, now: datetime | None = None) -> datetime | None:
    """ "30d", "12h" (back from now) or an ISO date ("2026-11-01"); None or "" for all."""
    if not value:
        return None
    try:
        return moment_since(value, now or datetime.now(UTC))
    except ValueError as exc:
        raise TrialError(f"since: {exc}") from None


@dataclass(frozen=True, slots=True)
class BacktestView:
    """A backtest as the panel and the API show it: the articles added and removed (the
    first BACKTEST_SHOWN of each), and both counted per day of publication."""

    result: Backtest
    since: datetime | None
    per_day: list[tuple[date, int, int]]  # day, added, removed

    def record(self) -> dict[str, Any]:
        r = self.result
        return {
            "profile": r.profile,
            "since": self.since.isoformat() if self.since else None,
            "articles": r.articles,
            "candidates": r.candidates,
            "scan": r.scan,
            "kept": r.kept,
            "added_count": len(r.added),
            "removed_count": len(r.removed),
            "added": [_article(a) for a in r.added[:BACKTEST_SHOWN]],
            "removed": [_article(a) for a in r.removed[:BACKTEST_SHOWN]],
            "per_day": [
                {"day": day.isoformat(), "added": added, "removed": removed}
                for day, added, removed in self.per_day
            ],
        }


def run_backtest(engine: Engine, profile: Profile, since: datetime | None) -> BacktestView:
    result = backtest(engine, profile, since)
    days: dict[date, list[int]] = {}
    for column, articles in ((0, result.added), (1, result.removed)):
        for article in articles:
            moment = article.published_at or article.fetched_at
            days.setdefault(moment.date(), [0, 0])[column] += 1
    per_day = [(day, pair[0], pair[1]) for day, pair in sorted(days.items())]
    return BacktestView(result, since, per_day)


def _article(a: Candidate) -> dict[str, Any]:
    moment = a.published_at or a.fetched_at
    return {
        "id": a.id,
        "url": a.url,
        "title": a.title,
        "feed": a.feed,
        "language": a.language,
        "published": moment.isoformat(),
    }
