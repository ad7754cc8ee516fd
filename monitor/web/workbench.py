"""The profile editor's pages: /profiles/new and /profiles/{name}/edit (the fields, the file as
it will be saved, a test panel and a backtest panel for the unsaved query), and
/profiles/{name}/history (every saved version, its diff, restore). One form, several
buttons: every answer shows the edit as it stands, so nothing typed is lost; saving needs
the token and the form's CSRF field (monitor.web.access.writer)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine

from monitor.errors import ConfigError
from monitor.profiles.editing import Fields, digest, fields_of, with_fields
from monitor.profiles.explain import explain
from monitor.profiles.lint import LintWarning, lint
from monitor.profiles.querysyntax import QueryError
from monitor.store.profileversions import ProfileVersion, versions
from monitor.web import trials
from monitor.web.access import COOKIE, csrf_token, writer
from monitor.web.render import page
from monitor.workbench.edits import (
    Conflict,
    NoSuchVersion,
    check_profile,
    profile_path,
    read_profile,
    restore_version,
    save_profile,
)

router = APIRouter(include_in_schema=False)
FORM_FIELDS = 24  # fields of the editor's form at most
DRAFT_LIMIT = 200_000  # characters of a derived draft carried by the new profile's form


@dataclass
class Editor:
    """Everything the edit page shows."""

    name: str
    new: bool
    fields: Fields
    base: str  # digest of the file as opened ("" for a new profile)
    yaml: str = ""
    problem: str = ""  # why it was not saved (invalid, conflict, not allowed)
    problem_at: str = ""  # line and column of an invalid edit
    problem_context: str = ""  # the query's line with a caret under the place
    notice: str = ""
    conflict: str | None = None  # the file on disk, when it changed meanwhile
    conflict_diff: list[str] = field(default_factory=list)
    lint: list[LintWarning] = field(default_factory=list)  # what measurement says goes wrong
    test: dict[str, Any] | None = None
    test_input: dict[str, str] = field(default_factory=dict)
    backtest: dict[str, Any] | None = None
    since: str = "30d"
    backtest_note: str = ""  # why there is no backtest
    draft: str = ""  # a new profile's starting file (a derived draft, with its comments)
    derived: dict[str, Any] | None = None  # what the draft was derived from (drafts.py)


def _config_dir(request: Request) -> Path:
    folder: Path = request.app.state.config_dir
    return folder


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def show(request: Request, editor: Editor, status: int = 200) -> HTMLResponse:
    token: str | None = request.app.state.token
    return page(
        request,
        "edit.html",
        status,
        editor=editor,
        csrf=csrf_token(token) if token else "",
        can_write=bool(token),
        signed_in=bool(token) and COOKIE in request.cookies,
    )


@router.get("/profiles/new", response_class=HTMLResponse)
def new_profile(request: Request) -> HTMLResponse:
    return show(request, Editor(name="", new=True, fields=Fields(), base=""))


@router.get("/profiles/{name}/edit", response_class=HTMLResponse)
def edit_profile(request: Request, name: str) -> HTMLResponse:
    folder = _config_dir(request)
    text = _existing(folder, name)
    path = profile_path(folder, name)
    try:
        opened = fields_of(text, path)
    except ConfigError as exc:  # not YAML at all: the fields cannot be read out of it
        broken = Editor(name=name, new=False, fields=Fields(), base=digest(text), yaml=text)
        broken.problem = (
            f"{path.name} is not a YAML mapping the editor can read ({exc}): mend it in a "
            "text editor, or send a whole file with PUT /api/v1/profiles/NAME"
        )
        return show(request, broken, 409)
    editor = Editor(name=name, new=False, fields=opened, base=digest(text))
    editor.yaml = text
    try:
        saved = trials.saved_profile(folder, name)
    except ConfigError:  # some profile broken by hand: the editor still opens, to mend it
        saved = None
    editor.lint = lint(saved) if saved is not None else []
    proposed = request.query_params.get("query")
    if proposed:  # a suggestion accepted into the editor: shown, checked, not saved
        editor.fields = replace(editor.fields, query=proposed[:100_000])
        editor.notice = (
            "The query below holds a suggestion, not saved yet: check it, test it, backtest "
            "it, then save (or leave the page to drop it)."
        )
        return show(request, editor, prepare(folder, editor))
    return show(request, editor)


def _existing(folder: Path, name: str) -> str:
    try:
        text = read_profile(folder, name)
    except ConfigError:
        text = None
    if text is None:
        raise HTTPException(404, f"There is no profile named {name!r}.")
    return text


@router.post("/profiles/new", response_class=HTMLResponse)
async def post_new(request: Request) -> Response:
    form = await read_form(request)
    return await _act(request, form.get("name", "").strip(), form, new=True)


@router.post("/profiles/{name}/edit", response_class=HTMLResponse)
async def post_edit(request: Request, name: str) -> Response:
    _existing(_config_dir(request), name)
    return await _act(request, name, await read_form(request), new=False)


async def read_form(request: Request) -> dict[str, str]:
    form = await request.form(max_fields=FORM_FIELDS)
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _fields(form: dict[str, str]) -> Fields:
    try:
        min_score = float(form.get("min_score", "1") or "1")
    except ValueError:
        min_score = -1.0  # the validator says what is wrong with it
    return Fields(
        description=form.get("description", "").strip(),
        query=form.get("query", "").replace("\r\n", "\n").strip(),
        tags=tuple(t.strip() for t in form.get("tags", "").split(",") if t.strip()),
        alert=form.get("alert", "instant"),
        digest=form.get("digest", "daily").strip() or "daily",
        min_score=min_score,
        enabled=form.get("enabled") == "on",
    )


async def _act(request: Request, name: str, form: dict[str, str], *, new: bool) -> Response:
    """The form's button: check, save, test or backtest; the page again with the answer (a
    save that worked goes on to the profile's page)."""
    folder = _config_dir(request)
    editor = Editor(name, new, _fields(form), form.get("base", ""), since=form.get("since", "30d"))
    if new:
        editor.draft = form.get("draft", "")[:DRAFT_LIMIT]
    action = form.get("action", "check")
    status = 200
    if action == "save":
        try:
            who = await writer(request)
        except HTTPException as exc:
            editor.problem = f"Not saved: {exc.detail}"
            status = exc.status_code
    if not name:
        editor.problem = "Give the new profile a name (lower-case letters, digits, '_' or '-')."
        return show(request, editor, 400)
    status = max(status, prepare(folder, editor))
    if editor.problem:
        return show(request, editor, status)
    if action == "save":
        return _save(request, folder, editor, who, form.get("note", "")[:500])
    if action == "test":
        await _test(request, folder, editor, form)
    elif action == "backtest":
        _backtest(request, folder, editor)
    return show(request, editor)


def prepare(folder: Path, editor: Editor) -> int:
    """The edit as the file it would be (editor.yaml), checked as the service would load it:
    200, or 400 with what is wrong in editor.problem."""
    try:
        path = profile_path(folder, editor.name)
        current = editor.draft if editor.new else (read_profile(folder, editor.name) or "")
        editor.yaml = with_fields(current, path, editor.fields)
        editor.lint = lint(check_profile(folder, editor.name, editor.yaml))
    except ConfigError as exc:
        first, _, context = exc.detail.partition("\n")
        editor.problem, editor.problem_context = f"Not valid: {first}", context
        if exc.line is not None:
            column = f", column {exc.column}" if exc.column is not None else ""
            editor.problem_at = f"line {exc.line}{column}"
        return 400
    return 200


def _save(request: Request, folder: Path, editor: Editor, who: str, note: str) -> Response:
    base = "" if editor.new else editor.base
    try:
        save_profile(
            _engine(request), folder, editor.name, editor.yaml, base=base, who=who, note=note
        )
    except Conflict as exc:
        editor.problem = f"Not saved: {exc.message}."
        editor.conflict = exc.current
        editor.conflict_diff = _diff(exc.current or "", editor.yaml, "on disk now", "your edit")
        editor.base = digest(exc.current) if exc.current is not None else ""
        editor.new = exc.current is None and editor.new
        return show(request, editor, 409)
    except ConfigError as exc:  # the concepts or the model changed meanwhile
        editor.problem = f"Not valid: {exc.detail}"
        return show(request, editor, 400)
    return RedirectResponse(f"/profiles/{editor.name}?saved=1", status_code=303)


async def _test(request: Request, folder: Path, editor: Editor, form: dict[str, str]) -> None:
    text, url, article = (form.get(k, "").strip() for k in ("test_text", "test_url", "article"))
    editor.test_input = {"test_text": text, "test_url": url, "article": article}
    try:
        profile = trials.trial_profile(folder, None if editor.new else editor.name,
                                       editor.fields.query)  # fmt: skip
        if url:
            doc = await trials.fetched_doc(request.app.state.fetch, url)
        elif article:
            if not article.isdigit():
                raise trials.TrialError(f"{article!r}: a stored article's number")
            doc = trials.stored_doc(_engine(request), int(article))
        else:
            doc = trials.pasted_doc(text)
    except (QueryError, trials.TrialError) as exc:
        editor.problem = f"Not tested: {exc}"
        return
    result = trials.test_on(profile, doc)
    editor.test = {
        "matched": result.matched,
        "terms": result.matched_terms if result.matched else [],
        "score": result.score,
        "snippets": result.snippets,
        "why_not": result.why_not,
        "tree": explain(result.evaluation, result.score),
        "title": doc.title,
        "language": doc.language,
    }


def _backtest(request: Request, folder: Path, editor: Editor) -> None:
    saved = trials.saved_profile(folder, editor.name)
    if saved is None:
        editor.backtest_note = "A backtest compares with a saved profile's hits: save it first."
        return
    try:
        since = trials.since_of(editor.since)
        profile = trials.trial_profile(folder, editor.name, editor.fields.query)
    except (QueryError, trials.TrialError) as exc:
        editor.problem = f"Not backtested: {exc}"
        return
    editor.backtest = trials.run_backtest(_engine(request), profile, since).record()


def _diff(old: str, new: str, old_name: str, new_name: str) -> list[str]:
    return list(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), old_name, new_name, lineterm="", n=2
        )
    )


@dataclass(frozen=True, slots=True)
class _Shown:
    version: ProfileVersion
    diff: list[str]


@router.get("/profiles/{name}/history", response_class=HTMLResponse)
def history(request: Request, name: str) -> HTMLResponse:
    text = _existing(_config_dir(request), name)
    kept = versions(_engine(request), name)
    shown = [
        _Shown(v, _diff(older.text if older else "", v.text, "before", "saved"))
        for v, older in zip(kept, [*kept[1:], None], strict=True)
    ]
    token: str | None = request.app.state.token
    return page(
        request,
        "history.html",
        name=name,
        versions=shown,
        base=digest(text),
        on_disk=digest(text),
        digest=digest,
        csrf=csrf_token(token) if token else "",
        can_write=bool(token),
    )


@router.post("/profiles/{name}/history/{version_id}/restore")
async def restore(request: Request, name: str, version_id: int) -> Response:
    folder = _config_dir(request)
    _existing(folder, name)
    who = await writer(request)
    form = await read_form(request)
    try:
        restore_version(
            _engine(request), folder, name, version_id, base=form.get("base") or None, who=who
        )
    except NoSuchVersion as exc:
        raise HTTPException(404, str(exc)) from None
    except Conflict as exc:
        raise HTTPException(409, f"{exc.message}; reload the history and try again") from None
    except ConfigError as exc:
        raise HTTPException(400, f"that version is no longer valid: {exc}") from None
    return RedirectResponse(f"/profiles/{name}/history?restored={version_id}", status_code=303)
