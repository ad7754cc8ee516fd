"""A hit's evidence on the web (docs/evidence.md): `/hits/{id}/evidence`, the versions of its
article's page with a side-by-side diff of each edit, `/hits/{id}/evidence.warc.gz`, the same
as the WARC file `monitor evidence export` writes, and `/api/v1/hits/{id}/evidence`, the
versions as JSON."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Engine

from monitor.archive.evidence import write_bundle
from monitor.evidence.textdiff import compare, sentences
from monitor.models import Hit
from monitor.store.evidence import Version, versions
from monitor.store.hits import hit_by_id
from monitor.web.queries import ID_MAX
from monitor.web.render import page

router = APIRouter(prefix="/api/v1", tags=["evidence"])
pages = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class Side:
    """One column of a diff: the sentences of a text, each marked when it changed."""

    sentences: tuple[tuple[str, bool], ...]


@dataclass(frozen=True, slots=True)
class Diff:
    """An edit, side by side: the text before and the text after."""

    before: Version
    after: Version
    left: Side
    right: Side


@router.get(
    "/hits/{hit_id}/evidence",
    summary="The versions of a hit article's page, oldest first",
    description="As `monitor evidence HIT_ID --format json`: when each version was fetched, "
    "its HTTP status, its classification (original, unchanged, edited, removed, "
    "unreachable) with the reason, the SHA-256 of the body kept and of its text, and an "
    "edit's removed and added sentences. 404 when nothing is kept for the hit.",
)
def evidence_api(request: Request, hit_id: int) -> list[dict[str, Any]]:
    _, found = _history(request, hit_id)
    return [version.record() for version in found]


@pages.get("/hits/{hit_id:int}/evidence", response_class=HTMLResponse)
def evidence_page(request: Request, hit_id: int) -> HTMLResponse:
    hit, found = _history(request, hit_id)
    return page(request, "evidence.html", hit=hit, versions=found, diffs=diffs(found))


@pages.get("/hits/{hit_id:int}/evidence.warc.gz")
def evidence_export(request: Request, hit_id: int) -> Response:
    hit, found = _history(request, hit_id)
    folder: Path | None = request.app.state.evidence_dir
    if folder is None:
        raise HTTPException(404, "this server does not know where evidence is kept")
    out = BytesIO()
    write_bundle(out, folder, found, f"the page of {found[0].url} as fetched")
    name = f"hit-{hit.id}-evidence.warc.gz"
    return Response(
        out.getvalue(),
        media_type="application/warc",
        headers={
            "Content-Encoding": "identity",
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


def diffs(found: list[Version]) -> list[Diff]:
    """Each edit against the text before it (the original's, or the last edit's)."""
    out: list[Diff] = []
    previous = next((v for v in found if v.text is not None), None)
    for version in found:
        if previous is None or version is previous or version.text is None:
            continue
        if version.classification == "edited":
            before, after = previous.text or "", version.text
            change = compare(before, after)
            out.append(
                Diff(previous, version, _side(before, change.removed), _side(after, change.added))
            )
        previous = version
    return out


def _side(text: str, changed: tuple[str, ...]) -> Side:
    marked = set(changed)
    return Side(tuple((s.text, s.text in marked) for s in sentences(text, drop_boilerplate=False)))


def _history(request: Request, hit_id: int) -> tuple[Hit, list[Version]]:
    engine: Engine = request.app.state.engine
    hit = hit_by_id(engine, hit_id) if 0 < hit_id <= ID_MAX else None
    if hit is None:
        raise HTTPException(404, f"There is no hit {hit_id}.")
    found = versions(engine, hit.article_id)
    if not found:
        raise HTTPException(
            404,
            f"Nothing is kept for hit {hit_id}: evidence is kept for hits stored since the "
            "version that keeps it, when their page could be fetched.",
        )
    return hit, found
