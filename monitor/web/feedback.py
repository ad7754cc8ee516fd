"""Readers' feedback from the web application: a verdict on a hit (relevant or not, with a
note) and the articles a profile missed, through the API (`/api/v1/hits/{id}/feedback`,
`/api/v1/profiles/{name}/missed`) and the pages' forms (POST /hits/{id}/feedback, POST
/profiles/{name}/missed, which answer with a redirect back). Every write needs the token
(monitor.web.access.writer); the pages show a form only to those who can use it."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi import Path as InPath
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sqlalchemy import Engine

from monitor.models import Feedback
from monitor.profiles.files import current_profiles
from monitor.store.feedback import (
    NOTE_MAX,
    MissedArticle,
    NoSuchHit,
    Precision,
    add_missed,
    clear_feedback,
    give_feedback,
    missed_articles,
    precision,
)
from monitor.web import trials
from monitor.web.access import COOKIE, LOGIN, csrf_token, local_path, writer
from monitor.web.queries import ID_MAX

router = APIRouter()
AnId = Annotated[int, InPath(le=ID_MAX)]
Writer = Annotated[str, Depends(writer)]
VERDICTS = {"relevant": True, "not_relevant": False}  # the page form's buttons (and "clear")


class FeedbackBody(BaseModel):
    """A verdict sent to the API; DELETE on the same path clears it."""

    model_config = ConfigDict(extra="forbid")
    relevant: StrictBool
    note: str = Field(default="", max_length=NOTE_MAX)


class MissedBody(BaseModel):
    """An article the profile should have matched, by its address."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=2048)
    note: str = Field(default="", max_length=NOTE_MAX)


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def verdict_record(feedback: Feedback | None) -> dict[str, Any] | None:
    """A verdict as the API shows it (also inside each hit: monitor.models.Hit.record)."""
    if feedback is None:
        return None
    return {
        "relevant": feedback.relevant,
        "note": feedback.note,
        "at": feedback.at.isoformat(),
        "by": feedback.by,
    }


# ---- the API ----


@router.post(
    "/api/v1/hits/{hit_id}/feedback",
    summary="Give a verdict on a hit: relevant or not, with an optional note (replaces one "
    "given before)",
    tags=["feedback"],
)
def post_feedback(request: Request, hit_id: AnId, body: FeedbackBody, who: Writer) -> Any:
    try:
        given = give_feedback(
            _engine(request), hit_id, body.relevant, body.note, who, datetime.now(UTC)
        )
    except NoSuchHit:
        raise HTTPException(404, f"no hit {hit_id}") from None
    return {"hit_id": hit_id, "feedback": verdict_record(given)}


@router.delete(
    "/api/v1/hits/{hit_id}/feedback", summary="Clear the verdict on a hit", tags=["feedback"]
)
def delete_feedback(request: Request, hit_id: AnId, _who: Writer) -> Any:
    try:
        cleared = clear_feedback(_engine(request), hit_id)
    except NoSuchHit:
        raise HTTPException(404, f"no hit {hit_id}") from None
    return {"hit_id": hit_id, "feedback": None, "cleared": cleared}


@router.post(
    "/api/v1/profiles/{name}/missed",
    summary="Add an article the profile should have matched: its page is fetched and its text "
    "kept for the suggestions",
    status_code=201,
    tags=["feedback"],
)
async def post_missed(request: Request, name: str, body: MissedBody, who: Writer) -> Any:
    _known(request, name)
    try:
        missed = await _fetch_missed(request, name, body.url, body.note, who)
    except trials.TrialError as exc:
        raise HTTPException(400, f"url: {exc}") from None
    return missed_record(missed)


@router.get(
    "/api/v1/profiles/{name}/missed",
    summary="The articles readers say the profile missed, oldest first",
    tags=["feedback"],
)
def get_missed(request: Request, name: str) -> Any:
    _known(request, name)
    return {"items": [missed_record(m) for m in missed_articles(_engine(request), name)]}


def missed_record(missed: MissedArticle) -> dict[str, Any]:
    return {
        "id": missed.id,
        "profile": missed.profile,
        "url": missed.url,
        "title": missed.title,
        "language": missed.language,
        "note": missed.note,
        "given_by": missed.given_by,
        "given_at": missed.given_at.isoformat(),
        "text": missed.text,
    }


def _known(request: Request, name: str) -> None:
    config_dir: Path = request.app.state.config_dir
    if name not in {p.name for p in current_profiles(config_dir)}:
        raise HTTPException(404, f"no profile {name!r}")


async def _fetch_missed(
    request: Request, name: str, url: str, note: str, who: str
) -> MissedArticle:
    """Fetch the page at `url` as `monitor profiles test --url` does (the fetcher's limits
    and address rules), extract its text and keep it; TrialError when that fails."""
    doc = await trials.fetched_doc(request.app.state.fetch, url.strip())
    return add_missed(
        _engine(request),
        name,
        url=url.strip(),
        title=doc.title,
        text=doc.text,
        language=doc.language,
        note=note,
        by=who,
        at=datetime.now(UTC),
    )


# ---- the pages' forms ----


@dataclass(frozen=True, slots=True)
class FeedbackForms:
    """What a page's feedback forms need: the CSRF value when this browser may write (None
    when it may not), the page to return to, and where to sign in (None: no token set, so
    nobody can write)."""

    csrf: str | None
    back: str
    sign_in: str | None


def feedback_forms(request: Request) -> FeedbackForms:
    """The forms of the page being answered (it is where they return to)."""
    token: str | None = request.app.state.token
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not token:
        return FeedbackForms(None, here, None)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    held = given if scheme.lower() == "bearer" else request.cookies.get(COOKIE, "")
    signed_in = hmac.compare_digest(held.encode(), token.encode())
    sign_in = f"{LOGIN}?{urlencode({'next': here})}"
    return FeedbackForms(csrf_token(token) if signed_in else None, here, sign_in)


def profile_feedback(request: Request, name: str) -> dict[str, Any]:
    """What a profile's page shows of its feedback: the precision, the missed articles and
    the forms."""
    engine = _engine(request)
    judged: Precision | None = precision(engine, name).get(name)
    return {
        "precision": judged,
        "missed": missed_articles(engine, name),
        "forms": feedback_forms(request),
    }


@router.post("/hits/{hit_id}/feedback", include_in_schema=False)
async def feedback_form(request: Request, hit_id: AnId, who: Writer) -> Response:
    form = await request.form()
    verdict, note = str(form.get("verdict", "")), str(form.get("note", ""))[:NOTE_MAX]
    back = local_path(str(form.get("back", "/hits")))
    engine = _engine(request)
    try:
        if verdict == "clear":
            clear_feedback(engine, hit_id)
        elif verdict in VERDICTS:
            give_feedback(engine, hit_id, VERDICTS[verdict], note, who, datetime.now(UTC))
        else:
            raise HTTPException(400, "verdict: relevant, not_relevant or clear")
    except NoSuchHit:
        raise HTTPException(404, f"There is no hit {hit_id}.") from None
    return RedirectResponse(f"{back.partition('#')[0]}#hit-{hit_id}", status_code=303)


@router.post("/profiles/{name}/missed", include_in_schema=False)
async def missed_form(request: Request, name: str, who: Writer) -> Response:
    form = await request.form()
    _known(request, name)
    url, note = str(form.get("url", ""))[:2048], str(form.get("note", ""))[:NOTE_MAX]
    try:
        await _fetch_missed(request, name, url, note, who)
    except trials.TrialError as exc:
        raise HTTPException(400, f"The article was not added: {exc}") from None
    return RedirectResponse(f"/profiles/{quote(name, safe='')}#missed", status_code=303)
