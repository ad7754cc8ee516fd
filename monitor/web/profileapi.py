"""The profile workbench's API: validate an edit, test an unsaved query on a text, backtest it
over the archive (reading: no token on loopback), read a profile's file and its saved
versions, and save a file (writing: the token, always)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from monitor.errors import ConfigError
from monitor.profiles.editing import Fields, digest, with_fields
from monitor.profiles.lint import lint
from monitor.profiles.querysyntax import QueryError
from monitor.profiles.report import outcome_record
from monitor.store.profileversions import versions
from monitor.web import trials
from monitor.web.access import writer
from monitor.web.errors import error, located
from monitor.workbench.edits import Conflict, check_profile, read_profile, save_profile

router = APIRouter(prefix="/api/v1/profiles", tags=["profile workbench"])
TEXT_LIMIT = 2_000_000  # characters of a text to test on, or of a profile file
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/plain")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TestRequest(_Strict):
    query: str | None = Field(default=None, max_length=100_000)
    profile: str | None = Field(default=None, max_length=200)  # its settings, or its query
    text: str | None = Field(default=None, max_length=TEXT_LIMIT)
    title: str = Field(default="", max_length=10_000)
    url: str | None = Field(default=None, max_length=2048)
    article_id: int | None = Field(default=None, ge=1)
    explain: bool = True


class BacktestRequest(_Strict):
    profile: str = Field(max_length=200)
    query: str | None = Field(default=None, max_length=100_000)
    since: str | None = Field(default="30d", max_length=40)


class EditorFields(_Strict):
    description: str = Field(default="", max_length=10_000)
    query: str = Field(default="", max_length=100_000)
    tags: list[str] = Field(default=[], max_length=100)
    alert: str = Field(default="instant", max_length=40)
    digest: str = Field(default="daily", max_length=200)
    min_score: float = 1.0
    enabled: bool = True

    def fields(self) -> Fields:
        tags = tuple(t.strip() for t in self.tags if t.strip())
        return Fields(
            self.description, self.query, tags, self.alert, self.digest, self.min_score,
            self.enabled,
        )  # fmt: skip


class ValidateRequest(_Strict):
    name: str = Field(max_length=200)
    yaml: str | None = Field(default=None, max_length=TEXT_LIMIT)  # a whole file, or
    fields: EditorFields | None = None  # the editor's fields over the file on disk


def _config_dir(request: Request) -> Path:
    folder: Path = request.app.state.config_dir
    return folder


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def config_error(exc: ConfigError) -> JSONResponse:
    return located(400, exc.detail, exc.line, exc.column)


def query_error(exc: QueryError) -> JSONResponse:
    return located(400, f"query: {exc.message}\n{exc.caret()}", exc.line, exc.column)


@router.post("/validate", summary="Check a profile file or the editor's fields, unsaved")
def validate(request: Request, body: ValidateRequest) -> Response:
    folder = _config_dir(request)
    try:
        text = _edited_text(folder, body)
        profile = check_profile(folder, body.name, text)
    except ConfigError as exc:
        return JSONResponse({"valid": False, "error": _problem(exc), "yaml": None})
    return JSONResponse(
        {
            "valid": True,
            "error": None,
            "yaml": text,
            "warnings": list(profile.warnings),
            "lint": [
                {"rule": w.rule, "message": w.message, "line": w.line, "column": w.column}
                for w in lint(profile)
            ],  # positions in the query
        }
    )


def _edited_text(folder: Path, body: ValidateRequest) -> str:
    if body.yaml is not None:
        return body.yaml
    if body.fields is None:
        raise ConfigError("give `yaml` (a whole profile file) or `fields` (the editor's)")
    current = read_profile(folder, body.name) or ""
    path = folder / "profiles" / f"{body.name}.yaml"
    return with_fields(current, path, body.fields.fields())


def _problem(exc: ConfigError) -> dict[str, Any]:
    """The error's first line as `message`; a query error's line and caret as `context`."""
    message, _, context = exc.detail.partition("\n")
    return {"message": message, "line": exc.line, "column": exc.column, "context": context}


@router.post("/test", summary="Does a query (or a profile) match this text?")
async def test(request: Request, body: TestRequest) -> Response:
    folder = _config_dir(request)
    try:
        if body.query is not None:
            profile = trials.trial_profile(folder, body.profile, body.query)
        elif body.profile is not None:
            found = trials.saved_profile(folder, body.profile)
            if found is None:
                return error(404, f"there is no profile named {body.profile!r}")
            profile = found
        else:
            return error(400, "give `query` (an unsaved query) or `profile` (a saved one)")
        if [body.text, body.url, body.article_id].count(None) != 2:
            return error(400, "give exactly one of `text`, `url` or `article_id`")
        if body.text is not None:
            doc = trials.pasted_doc(body.text, body.title)
        elif body.url is not None:
            doc = await trials.fetched_doc(request.app.state.fetch, body.url, body.title)
        else:
            assert body.article_id is not None
            doc = trials.stored_doc(_engine(request), body.article_id)
    except QueryError as exc:
        return query_error(exc)
    except trials.TrialError as exc:
        return error(400, str(exc))
    return JSONResponse(outcome_record(trials.test_on(profile, doc), body.explain))


@router.post("/backtest", summary="What an unsaved query would add to and remove from the hits")
def backtest(request: Request, body: BacktestRequest) -> Response:
    folder = _config_dir(request)
    saved = trials.saved_profile(folder, body.profile)
    if saved is None:
        return error(404, f"there is no profile named {body.profile!r}")
    try:
        since = trials.since_of(body.since)
        profile = (
            saved if body.query is None else trials.trial_profile(folder, body.profile, body.query)
        )
    except QueryError as exc:
        return query_error(exc)
    except trials.TrialError as exc:
        return error(400, str(exc))
    return JSONResponse(trials.run_backtest(_engine(request), profile, since).record())


@router.head("/{name}/file", include_in_schema=False)  # the ETag alone, for `curl -I`
@router.get("/{name}/file", summary="A profile's file as it is on disk (ETag: its digest)")
def profile_file(request: Request, name: str) -> Response:
    text = _read(request, name)
    if text is None:
        return error(404, f"there is no profile named {name!r}")
    return Response(
        text, media_type="application/yaml; charset=utf-8", headers={"ETag": f'"{digest(text)}"'}
    )


def _read(request: Request, name: str) -> str | None:
    try:
        return read_profile(_config_dir(request), name)
    except ConfigError:
        return None  # not a profile name


@router.get("/{name}/versions", summary="The versions of a profile saved here, newest first")
def profile_versions(request: Request, name: str) -> dict[str, Any]:
    return {
        "profile": name,
        "versions": [
            {
                "id": v.id,
                "saved_by": v.saved_by,
                "saved_at": v.saved_at.isoformat(),
                "note": v.note,
                "digest": digest(v.text),
            }
            for v in versions(_engine(request), name)
        ],
    }


@router.put(
    "/{name}",
    summary="Save a profile file (YAML body; If-Match: the ETag it was read with)",
    responses={400: {"description": "invalid: message, line, column"}, 409: {}},
)
async def put_profile(
    request: Request, name: str, who: Annotated[str, Depends(writer)]
) -> Response:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in YAML_TYPES:
        return error(415, "send the profile as application/yaml or text/plain")
    raw = await request.body()
    if len(raw) > TEXT_LIMIT:
        return error(413, "a profile file is at most 2 MB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return error(400, "the profile file is not UTF-8")
    match = request.headers.get("if-match")
    base = match.strip().strip('"') if match and match.strip() != "*" else None
    existed = _read(request, name) is not None
    try:
        saved = save_profile(
            _engine(request), _config_dir(request), name, text, base=base, who=who,
            note=request.headers.get("x-monitor-note", "")[:500],
        )  # fmt: skip
    except ConfigError as exc:
        return config_error(exc)
    except Conflict as exc:
        return JSONResponse(
            {"error": {"status": 409, "message": exc.message, "current": exc.current}},
            status_code=409,
        )
    return JSONResponse(
        {"profile": name, "version": saved.version, "saved": True, "digest": digest(text)},
        status_code=200 if existed else 201,
        headers={"ETag": f'"{digest(text)}"'},
    )
