"""A new profile from a document (/profiles/derive): paste a text or give a page's URL; the
draft monitor.profiles.derive makes of it (key phrases, names, the concepts it mentions) opens
in the editor as a new profile, with what was found and how many stored articles the draft
matches. Nothing is saved until the editor's Save."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine

from monitor.errors import ConfigError
from monitor.profiles.derive import derive, profile_name
from monitor.profiles.editing import fields_of
from monitor.profiles.files import PROFILES_DIR, current_concepts
from monitor.web import trials
from monitor.web.render import page
from monitor.web.workbench import Editor, prepare, read_form, show

router = APIRouter(include_in_schema=False)
BACKTEST_SPAN = "30d"  # what the draft is backtested over


def _config_dir(request: Request) -> Path:
    folder: Path = request.app.state.config_dir
    return folder


@router.get("/profiles/derive", response_class=HTMLResponse)
def derive_form(request: Request) -> HTMLResponse:
    return page(request, "derive.html", problem="", given={})


@router.post("/profiles/derive", response_class=HTMLResponse)
async def derive_draft(request: Request) -> HTMLResponse:
    form = await read_form(request)
    given = {k: form.get(k, "").strip() for k in ("name", "title", "text", "url")}
    folder = _config_dir(request)
    try:
        if given["url"]:
            doc = await trials.fetched_doc(request.app.state.fetch, given["url"], given["title"])
        else:
            doc = trials.pasted_doc(given["text"], given["title"])
        name = given["name"] or profile_name(doc.title or given["url"] or "draft")
        draft = derive(doc.title, doc.text, doc.language, current_concepts(folder), name=name,
                       source=given["url"])  # fmt: skip
        text = draft.yaml()
        fields = fields_of(text, folder / PROFILES_DIR / f"{draft.name}.yaml")
    except (trials.TrialError, ValueError, ConfigError) as exc:
        return page(request, "derive.html", 400, problem=str(exc), given=given)
    editor = Editor(name=draft.name, new=True, fields=fields, base="", draft=text)
    editor.derived = draft.as_dict()
    status = prepare(folder, editor)
    if not editor.problem:
        engine: Engine = request.app.state.engine
        view = trials.run_backtest(engine, draft.profile(), trials.since_of(BACKTEST_SPAN))
        editor.derived["matches"] = len(view.result.added)
        editor.derived["span"] = BACKTEST_SPAN
        editor.derived["articles"] = view.result.articles
    return show(request, editor, status)
