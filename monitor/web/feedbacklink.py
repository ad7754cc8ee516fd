"""The page a feedback link in an alert opens (monitor.alerts.feedbacklinks): no token, no
sign-in; the signed link is the permission, for its one hit and verdict, until it expires.
GET shows the hit and a button that confirms (mail scanners open links: a GET records
nothing); the POST of that button records the verdict, by "alert link". A link with its hit,
verdict or expiry changed is refused (403), an expired one too (410)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine

from monitor.alerts.feedbacklinks import BadLink, SignedVerdict, verify
from monitor.store.feedback import NOTE_MAX, NoSuchHit, give_feedback
from monitor.store.hits import hit_by_id
from monitor.store.sitekeys import site_key
from monitor.web.access import small_form
from monitor.web.render import page

router = APIRouter(include_in_schema=False)
GIVEN_BY = "alert link"
FORM_LIMIT = 4 * NOTE_MAX  # bytes of the confirming form: a note, URL-encoded


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _checked(request: Request, signed: str) -> SignedVerdict | HTMLResponse:
    """What the link gives, or the page saying why it gives nothing."""
    try:
        return verify(site_key(_engine(request), "feedback"), signed, datetime.now(UTC))
    except BadLink as bad:
        return _refused(request, bad.status, bad.message)


def _refused(request: Request, status: int, message: str) -> HTMLResponse:
    reason = {403: "Forbidden", 404: "Not Found", 410: "Gone", 413: "Content Too Large"}[status]
    return page(request, "error.html", status, status=status, reason=reason, message=message)


@router.get("/feedback/{signed}", response_class=HTMLResponse)
def confirm(request: Request, signed: str) -> HTMLResponse:
    checked = _checked(request, signed)
    if isinstance(checked, HTMLResponse):
        return checked
    hit = hit_by_id(_engine(request), checked.hit_id)
    if hit is None:
        return _refused(request, 404, f"There is no hit {checked.hit_id} any more.")
    return page(request, "feedback_link.html", hit=hit, link=checked, signed=signed, done=False)


@router.post("/feedback/{signed}", response_class=HTMLResponse)
async def record(request: Request, signed: str) -> HTMLResponse:
    checked = _checked(request, signed)
    if isinstance(checked, HTMLResponse):
        return checked
    note = await _note(request)
    if note is None:
        return _refused(request, 413, f"The note is too long (at most {NOTE_MAX} characters).")
    engine = _engine(request)
    try:
        give_feedback(engine, checked.hit_id, checked.relevant, note, GIVEN_BY, datetime.now(UTC))
    except NoSuchHit:
        return _refused(request, 404, f"There is no hit {checked.hit_id} any more.")
    hit = hit_by_id(engine, checked.hit_id)
    return page(request, "feedback_link.html", hit=hit, link=checked, signed=signed, done=True)


async def _note(request: Request) -> str | None:
    """The confirming form's note ("" without one); None when the form is over FORM_LIMIT
    bytes (read no further) or is not a form of a few fields."""
    fields = await small_form(request, max_fields=8, limit=FORM_LIMIT)
    return None if fields is None else fields.get("note", "")
