"""`/api/v1/profiles/{name}/suggestions`: exclusions and additions drawn from readers'
feedback on a profile's hits (monitor.workbench), each with what a backtest over the archive
says it would remove and add. The backtest runs here, where both the workbench and the
archive may be imported: the profile as it is once, then each suggestion, and a suggestion's
figures are the articles its query removes (adds) that the profile as it is keeps (lacks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine

from monitor.archive.backtest import Backtest, backtest
from monitor.profiles.profile import Profile
from monitor.web.queries import as_utc
from monitor.web.render import page
from monitor.workbench.advice import EffectOf, suggestions
from monitor.workbench.suggestions import Effect, Suggestion, Suggestions

SINCE_DAYS = 30  # the backtest's span when `since` is not given (as `profiles backtest`)
LIMIT_MAX = 50

router = APIRouter(prefix="/api/v1", tags=["profile workbench"])
pages = APIRouter(include_in_schema=False)
PAGE_LIMIT = 8  # suggestions of each kind on the page (each costs a backtest)


@router.get(
    "/profiles/{name}/suggestions",
    summary="Suggested exclusions and additions for a profile, from readers' feedback",
    description="Exclusions (`AND NOT …`) are phrases the hits judged not relevant share and "
    "the relevant ones lack; additions (`OR …`) phrases the articles readers say the profile "
    "missed share. Each was checked by matching its query again on the judged hits (or the "
    "missed articles): `false_positives` are the hits judged not relevant it removes, "
    "`relevant_lost` the relevant ones it removes too, `missed` the missed articles it "
    "catches. `backtest` says how many stored articles fetched since `since` its query would "
    "remove and add beyond what the profile as it is would. `by_hit` lists, for each hit "
    "judged not relevant, the exclusions that remove it made of the phrases that set its "
    "page apart (checked the same way; one may lose a relevant hit; not backtested). Nothing "
    "is changed: a suggestion is taken by saving its `query` in the editor.",
)
def profile_suggestions(
    request: Request,
    name: str,
    since: Annotated[
        datetime | None,
        Query(description=f"backtest the articles fetched since (default: {SINCE_DAYS} days)"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=LIMIT_MAX, description="suggestions of each kind")] = 10,
    backtest_: Annotated[
        bool, Query(alias="backtest", description="false: no backtest (faster)")
    ] = True,
) -> dict[str, Any]:
    engine: Engine = request.app.state.engine
    config_dir: Path = request.app.state.config_dir
    start = as_utc(since) if since else datetime.now(UTC) - timedelta(days=SINCE_DAYS)
    effect = backtest_effect(engine, start) if backtest_ else None
    found = suggestions(engine, config_dir, name, effect=effect, limit=limit)
    if found is None:
        raise HTTPException(404, f"no profile {name!r}")
    return record(found)


def backtest_effect(engine: Engine, since: datetime | None) -> EffectOf:
    """What each suggested profile does to the stored hits beyond the profile as it is: the
    latter is backtested once, on first use."""
    baseline: dict[str, Backtest] = {}

    def effect(profile: Profile, suggested: Profile) -> Effect:
        if profile.name not in baseline:
            baseline[profile.name] = backtest(engine, profile, since)
        base, after = baseline[profile.name], backtest(engine, suggested, since)
        removed = {a.id for a in after.removed} - {a.id for a in base.removed}
        added = {a.id for a in after.added} - {a.id for a in base.added}
        return Effect(removed=len(removed), added=len(added), since=since)

    return effect


def record(found: Suggestions) -> dict[str, Any]:
    """The answer: the feedback in figures and the suggestions, best first."""
    precision = found.precision
    return {
        "profile": found.profile,
        "feedback": {
            "relevant": found.relevant,
            "not_relevant": found.not_relevant,
            "precision": None if precision is None else round(precision, 4),
            "unmatched": list(found.unmatched),
        },
        "suggestions": [_item(item) for item in found.items],
        "by_hit": [
            {
                "hit": advice.key,
                "title": advice.title,
                "url": advice.url,
                "suggestions": [_item(item) for item in advice.items],
            }
            for advice in found.by_hit
        ],
    }


def _item(item: Suggestion) -> dict[str, Any]:
    effect = item.effect
    return {
        "kind": item.kind,
        "fragment": item.fragment,
        "query": item.query,
        "phrase": item.phrase,
        "false_positives": list(item.false_positives),
        "relevant_lost": list(item.relevant_lost),
        "missed": list(item.missed),
        "near": item.near,
        "score": item.score,
        "backtest": None
        if effect is None
        else {
            "removed": effect.removed,
            "added": effect.added,
            "since": effect.since.isoformat() if effect.since else None,
        },
    }


@pages.get("/profiles/{name}/suggestions", response_class=HTMLResponse)
def suggestions_page(request: Request, name: str) -> HTMLResponse:
    """The suggestions as a page: each with its evidence, its backtest over the last
    SINCE_DAYS days, and a link that opens its query in the editor (nothing is saved)."""
    engine: Engine = request.app.state.engine
    config_dir: Path = request.app.state.config_dir
    since = datetime.now(UTC) - timedelta(days=SINCE_DAYS)
    found = suggestions(
        engine, config_dir, name, effect=backtest_effect(engine, since), limit=PAGE_LIMIT
    )
    if found is None:
        raise HTTPException(404, f"There is no profile named {name!r}.")
    shown = record(found)
    listed = shown["suggestions"] + [i for hit in shown["by_hit"] for i in hit["suggestions"]]
    for item in listed:
        item["edit"] = f"/profiles/{quote(name)}/edit?{urlencode({'query': item['query']})}"
    return page(request, "suggestions.html", name=name, found=shown, days=SINCE_DAYS)
