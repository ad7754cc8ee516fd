"""`monitor profiles derive FILE|URL`: a draft profile from a document (key phrases, names and
the concepts it mentions: monitor.profiles.derive) and, when there is a database, a backtest of
the draft over the stored articles. Registered on `monitor profiles` by monitor.cli."""

from __future__ import annotations

import asyncio
import re
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

from monitor.archive.backtest import Backtest, backtest
from monitor.cli.common import config_dir, engine, out, plain, print_json, progress, settings
from monitor.cli.common import since as parse_since
from monitor.config.secrets import redact_url
from monitor.errors import FetchError, StoreError
from monitor.ingest.language import detect_language
from monitor.ingest.pagedoc import NoArticle, download, page_doc
from monitor.profiles.concepts import load_concepts
from monitor.profiles.derive import derive, profile_name
from monitor.profiles.draft import Draft
from monitor.profiles.profile import Doc

SOURCE = "FILE|URL"
SHOWN = 15  # key phrases printed as text (all in JSON)
LISTED = 10  # articles of the backtest printed as text
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")  # as monitor.profiles.files requires


class DraftFormat(StrEnum):
    text = "text"
    yaml = "yaml"
    json = "json"


def profiles_derive(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Argument(metavar=SOURCE, help="A text or HTML file, or a page to fetch (http…)."),
    ],
    name: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="The profile's name (default: from the file name, the URL or the headline).",
            show_default=False,
        ),
    ] = None,
    title: Annotated[
        str, typer.Option(metavar="TEXT", help="The headline, for a text file that has none.")
    ] = "",
    language: Annotated[
        str | None,
        typer.Option(
            metavar="CODE", help="The document's language (default: detected).", show_default=False
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            metavar="DURATION|DATE", help="Backtest the articles stored since (30d or a date)."
        ),
    ] = "30d",
    fmt: Annotated[
        DraftFormat,
        typer.Option(
            "--format",
            metavar="[text|yaml|json]",
            help="text, yaml (only the profile file) or json.",
        ),
    ] = DraftFormat.text,
) -> None:
    """Derive a draft profile from a document: its key phrases, organisations and people, the
    concepts of concepts.yaml it mentions, a query of them, and a backtest of that query.

    `--format yaml` prints only the profile file: save it as config/profiles/NAME.yaml and
    `monitor profiles validate` accepts it. The draft is a starting point, to read and edit.

    \b
    Example: monitor profiles derive story.html --name wuzhen --format yaml
    """
    start = parse_since(since)  # usage mistakes are told before anything is read
    if name is not None and not _NAME.match(name):
        raise typer.BadParameter(
            "lower-case letters, digits, '_' or '-', starting with a letter or digit",
            param_hint="--name",
        )
    concepts = load_concepts(config_dir(ctx))
    doc = _document(ctx, source, title)
    try:
        draft = derive(
            doc.title,
            doc.text,
            language or doc.language or detect_language(f"{doc.title}\n{doc.text}"),
            concepts,
            name=name or _default_name(source, doc.title),
            source=redact_url(source) if _is_url(source) else source,
        )
    except ValueError as exc:
        raise typer.BadParameter(f"{source}: {exc}", param_hint=SOURCE) from None
    if fmt is DraftFormat.yaml:
        sys.stdout.write(draft.yaml())
        return
    tested, skipped = _backtest(ctx, draft, start)
    if fmt is DraftFormat.json:
        record = draft.as_dict()
        record["backtest"] = _backtest_record(tested, skipped, since)
        print_json(record)
        return
    _print(draft)
    _print_backtest(tested, skipped, since)


def _is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def _document(ctx: typer.Context, source: str, title: str) -> Doc:
    """The document: a page fetched and extracted, an HTML file extracted, or a text file."""
    try:
        if _is_url(source):
            return page_doc(asyncio.run(download(settings(ctx).fetch, source)), source, title)
        path = Path(source)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise typer.BadParameter(f"{path}: {exc.strerror}", param_hint=SOURCE) from None
        if path.suffix.lower() in (".html", ".htm"):
            return page_doc(raw, path.resolve().as_uri(), title)
    except (FetchError, NoArticle) as exc:
        raise typer.BadParameter(str(exc), param_hint=SOURCE) from None
    return Doc(title=title, text=raw.decode("utf-8", errors="replace"))


def _default_name(source: str, title: str) -> str:
    """From the file's name, the URL's last path segment (or its host), else the headline."""
    if _is_url(source):
        parts = urlsplit(source)
        stem = Path(parts.path.rstrip("/")).stem or (parts.hostname or "")
    else:
        stem = Path(source).stem
    name = profile_name(stem)
    return name if name != "draft" or not title else profile_name(title)


def _backtest(
    ctx: typer.Context, draft: Draft, start: datetime | None
) -> tuple[Backtest | None, str | None]:
    """The draft run over the stored articles, or why that was skipped (no database)."""
    try:
        db = engine(settings(ctx))
    except StoreError as exc:
        return None, str(exc)
    try:
        with progress("backtesting the draft", None) as advance:
            return backtest(db, draft.profile(), start, advance), None
    finally:
        db.dispose()


def _backtest_record(tested: Backtest | None, skipped: str | None, since: str | None) -> Any:
    if tested is None:
        return {"skipped": skipped}
    return {
        "since": since,
        "articles": tested.articles,
        "candidates": tested.candidates,
        "matched": tested.kept + len(tested.added),
        "added": [{"url": a.url, "title": a.title} for a in tested.added],
        "removed": [{"url": a.url, "title": a.title} for a in tested.removed],
    }


def _say(text: str) -> None:
    """A line of the report as it is (a stranger's words: no markup), never wrapped mid-way."""
    out.print(plain(text), soft_wrap=True)


def _print(draft: Draft) -> None:
    language = draft.language or "unknown language"
    _say(f"Draft profile {draft.name!r} from {draft.source} ({language})")
    if draft.title:
        _say(f"  {draft.title}")
    out.print("\nConcepts mentioned (@name, times, terms found):")
    for c in draft.concepts:
        role = "context (AND)" if c.broad else "alternative"
        _say(f"  @{c.name}  {c.count}×  {', '.join(c.terms)}  [{role}]")
    if not draft.concepts:
        out.print("  none")
    out.print("\nKey phrases (score, times, in the query or why not):")
    shown = [p for i, p in enumerate(draft.phrases) if i < SHOWN or not p.why_not]
    for p in shown:
        verdict = "in the query" if not p.why_not else p.why_not
        _say(f"  {p.score or 0:4.2f}  {p.text}  {p.count}×  {verdict}")
    if len(draft.phrases) > len(shown):
        out.print(f"  … {len(draft.phrases) - len(shown)} more (--format json lists them)")
    out.print("\nOrganisations named:")
    for o in draft.organisations:
        verdict = "in the query" if not o.why_not else o.why_not
        _say(f"  {o.text}  {o.count}×  {verdict}")
    if not draft.organisations:
        out.print("  none found")
    out.print("\nPeople named (not in the query; add those the profile follows):")
    people = ", ".join(f"{p.text} {p.count}×" for p in draft.people)
    _say(f"  {people or 'none found'}")
    out.print("\nQuery:")
    for line in draft.query.splitlines():
        _say(f"  {line}")


def _print_backtest(tested: Backtest | None, skipped: str | None, since: str | None) -> None:
    if tested is None:
        _say(f"\nBacktest skipped: {skipped}")
        return
    matched = tested.kept + len(tested.added)
    stretch = f"since {since}" if since else "all"
    _say(
        f"\nBacktest ({stretch}): the draft matches {matched} of {tested.articles} stored "
        f"article(s) ({tested.candidates} candidate(s) from the search index)"
    )
    for a in tested.added[:LISTED]:
        _say(f"  + {a.title}  {a.url}")
    if len(tested.added) > LISTED:
        out.print(f"  … {len(tested.added) - LISTED} more (--format json lists them)")
