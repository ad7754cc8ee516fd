"""`monitor profiles …`: list and validate profiles, test them on a text, a file or a URL,
and backtest an edited profile against the stored articles."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from monitor.archive.backtest import backtest
from monitor.cli.common import config_dir, engine, out, plain, print_json, progress, settings
from monitor.cli.common import since as parse_since
from monitor.config.settings import FetchSettings
from monitor.errors import ConfigError, FetchError, StoreError
from monitor.ingest.language import detect_language
from monitor.ingest.pagedoc import NoArticle, download, page_doc
from monitor.profiles.concepts import load_concepts
from monitor.profiles.explain import explain
from monitor.profiles.files import lint_lines, load_profiles
from monitor.profiles.matcher import Matcher, Outcome, outcome
from monitor.profiles.profile import Doc, Profile
from monitor.profiles.querysyntax import QueryError
from monitor.profiles.report import ad_hoc_profile, outcome_record
from monitor.store.feedback import Precision, precision
from monitor.store.hits import hit_counts

profiles_app = typer.Typer(
    help="List, validate, test and backtest keyword profiles.", no_args_is_help=True
)


class Output(StrEnum):
    text = "text"
    json = "json"


RECENT = timedelta(days=7)  # `profiles list` counts the hits of this last stretch
NONE = "–"
UNJUDGED = Precision(0, 0)


@profiles_app.command("list")
def profiles_list(
    ctx: typer.Context,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also print each profile's query.")
    ] = False,
) -> None:
    """List profiles, one line each: description, tags, hits in the last 7 days and the
    precision readers' feedback gives ("0.83 (24)": 24 hits judged; "-": none judged).

    Hits come from the database when there is one ("–" when there is none: listing never
    creates it). Every profile file is validated on the way.

    \b
    Example: monitor profiles list --verbose
    """
    profiles = load_profiles(config_dir(ctx))
    counts, judged = _recent_hits(ctx)
    names = [plain(p.name + ("" if p.enabled else " (disabled)")) for p in profiles]
    tags = [plain(", ".join(p.tags)) for p in profiles]
    shown = [NONE if judged is None else judged.get(p.name, UNJUDGED).shown() for p in profiles]
    table = Table("name", "hits 7d", "precision", "tags", "description")
    name_width = max((len(name) for name in names), default=4)
    precision_width = max(len("precision"), *map(len, shown))
    rest = out.width - name_width - len("hits 7d") - precision_width - 16  # borders, padding
    tags_width = min(max((len(t) for t in tags), default=4), max(rest // 3, 10))
    widths = [name_width, len("hits 7d"), precision_width, tags_width, max(rest - tags_width, 10)]
    for column, width in zip(table.columns, widths, strict=True):
        column.width, column.no_wrap, column.overflow = width, True, "ellipsis"
    table.columns[1].justify = table.columns[2].justify = "right"
    for p, name, judged_cell, tag in zip(profiles, names, shown, tags, strict=True):
        hits = NONE if counts is None else str(counts.get(p.name, 0))
        table.add_row(name, hits, judged_cell, tag, plain(p.description))
    out.print(table)
    if verbose:
        for p in profiles:
            out.print(plain(f"\n{p.name}:"))
            for line in (p.query_text or p.query.source).rstrip().splitlines():
                out.print(plain(f"  {line}".rstrip()), soft_wrap=True)


def _recent_hits(
    ctx: typer.Context,
) -> tuple[dict[str, int], dict[str, Precision]] | tuple[None, None]:
    """Hits per profile stored in the last 7 days, and the precision feedback gives each;
    None, None without a database to read."""
    try:
        db = engine(settings(ctx))
    except StoreError as exc:  # no database yet (none is made here), or it cannot be reached
        sys.stderr.write(f"hits 7d: {exc}\n")
        return None, None
    try:
        now = datetime.now(UTC)
        return hit_counts(db, now - RECENT, now + timedelta(seconds=1)), precision(db)
    finally:
        db.dispose()


@profiles_app.command("validate")
def profiles_validate(
    ctx: typer.Context,
    with_lint: Annotated[
        bool, typer.Option("--lint", help="Also lint each query (docs/profiles.md, Lint).")
    ] = False,
) -> None:
    """Check every profile and concepts.yaml; exit 2 with the file, line and column of an error.

    Warnings (a lowercase or, and, not: searched as a word) are printed with their file, line
    and column; they do not change the exit status. With --lint, so is what is known to go
    wrong in matching (`file:line:col: lint[rule]: message`): a word alone that also means
    something else, an exclusion or a concept missing in one language, a NEAR too short for
    Chinese.

    \b
    Example: monitor profiles validate --lint
    """
    folder = config_dir(ctx)
    concepts = load_concepts(folder)
    profiles = load_profiles(folder)
    terms = Matcher(profiles).term_count
    warnings = [w for p in profiles for w in p.warnings]
    _warn(warnings)
    linted = [line for p in profiles for line in lint_lines(p)] if with_lint else []
    sys.stderr.writelines(f"{line}\n" for line in linted)
    noted = f"; {len(warnings)} warning(s)" if warnings else ""
    noted += f"; {len(linted)} lint warning(s)" if with_lint else ""
    out.print(
        f"{len(profiles)} profile(s) and {len(concepts)} concept(s) are valid "
        f"({terms} distinct terms){noted}"
    )


def _warn(warnings: list[str]) -> None:
    """Warnings on stderr (stdout stays the command's result)."""
    for warning in warnings:
        sys.stderr.write(f"warning: {warning}\n")


def _doc(
    fetch: FetchSettings, text: str | None, file: Path | None, url: str | None, title: str
) -> Doc:
    if [text, file, url].count(None) != 2:
        raise typer.BadParameter("give exactly one of --text, --file or --url")
    if text is not None:
        return Doc(title=title, text=text, language=detect_language(f"{title}\n{text}"))
    if file is not None:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise typer.BadParameter(f"{file}: {exc.strerror}", param_hint="--file") from None
        if file.suffix.lower() in (".html", ".htm"):
            return _page_doc(raw, file.as_uri(), title)
        body = raw.decode("utf-8", errors="replace")
        return Doc(title=title, text=body, language=detect_language(f"{title}\n{body}"))
    assert url is not None
    return _page_doc(asyncio.run(_download(fetch, url)), url, title)


async def _download(fetch: FetchSettings, url: str) -> bytes:
    """A URL given on the command line is trusted like a configured feed."""
    try:
        return await download(fetch, url)
    except FetchError as exc:
        raise typer.BadParameter(str(exc), param_hint="--url") from None


def _page_doc(html: bytes, url: str, title: str) -> Doc:
    try:
        return page_doc(html, url, title)
    except NoArticle as exc:
        raise typer.BadParameter(str(exc)) from None


@profiles_app.command("test")
def profiles_test(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(metavar="NAME", help="A profile name.", show_default=False)
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Test every profile.")] = False,
    query: Annotated[
        str | None, typer.Option(metavar="QUERY", help="Test an ad-hoc query instead.")
    ] = None,
    text: Annotated[str | None, typer.Option(metavar="TEXT", help="The text to test on.")] = None,
    file: Annotated[
        Path | None, typer.Option(metavar="FILE", help="A text or HTML file to test on.")
    ] = None,
    url: Annotated[
        str | None, typer.Option(metavar="URL", help="A page to fetch and test on.")
    ] = None,
    title: Annotated[
        str, typer.Option(metavar="TEXT", help="A headline to go with --text or --file.")
    ] = "",
    show_tree: Annotated[
        bool, typer.Option("--explain", help="Show which clauses held (✓) and failed (✗).")
    ] = False,
    fmt: Annotated[
        Output, typer.Option("--format", metavar="[text|json]", help="text or json.")
    ] = Output.text,
) -> None:
    """Does a profile match this text? Exit 0 when one matched, 1 when none did.

    \b
    Example: monitor profiles test great_firewall --url https://example.org/story --explain
    """
    if [name is not None, every, query is not None].count(True) != 1:
        raise typer.BadParameter("give exactly one of NAME, --all or --query")
    folder = config_dir(ctx)
    if query is not None:
        profiles = [_ad_hoc(query, load_concepts(folder))]
    else:
        profiles = [p for p in load_profiles(folder) if every or p.name == name]
        if not profiles:
            raise ConfigError(f"no profile named {name!r} in {folder / 'profiles'}")
    _warn([w for p in profiles for w in p.warnings])
    doc = _doc(settings(ctx).fetch, text, file, url, title)
    matcher = Matcher(profiles)
    results = [outcome(matcher.evaluation(p, doc)) for p in profiles]
    if fmt is Output.json:
        records = [outcome_record(r, show_tree) for r in results]
        print_json(records if every else records[0])
    else:
        for result in results:
            _print(result, show_tree)
    raise typer.Exit(0 if any(r.matched for r in results) else 1)


def _ad_hoc(query: str, concepts: dict[str, tuple[str, ...]]) -> Profile:
    """`--query` as a profile without filters or a minimum score."""
    try:
        return ad_hoc_profile(query, concepts)
    except QueryError as exc:
        raise typer.BadParameter(f"{exc.message}\n{exc.caret()}", param_hint="--query") from None


def _print(result: Outcome, show_tree: bool) -> None:
    name = escape(result.profile.name)
    if result.matched:
        learned = "" if result.learned is None else f", learned check {result.learned:.2f}"
        out.print(f"[bold]{name}[/] [green]matches[/] (score {result.score:g}{learned})")
        out.print(plain("  terms: " + ", ".join(result.matched_terms)))
        for snippet in result.snippets:  # the page's text: a stranger's
            out.print(plain("  > " + snippet))
    else:
        out.print(f"[bold]{name}[/] [red]no match[/]: {escape(result.why_not)}")
    if show_tree:
        for line in explain(result.evaluation, result.score):
            out.print(plain("  " + line))


@profiles_app.command("backtest")
def profiles_backtest(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The profile to re-run.")],
    since: Annotated[
        str | None,
        typer.Option(metavar="DURATION|DATE", help="Only articles stored since (30d or a date)."),
    ] = "30d",
    fmt: Annotated[
        Output, typer.Option("--format", metavar="[text|json]", help="text or json.")
    ] = Output.text,
) -> None:
    """Run the profile file as it is now over stored articles: what would it add or remove?

    \b
    Example: monitor profiles backtest great_firewall --since 30d
    """
    start = parse_since(since)  # a usage mistake is told before the database is opened
    folder = config_dir(ctx)
    profile = next((p for p in load_profiles(folder) if p.name == name), None)
    if profile is None:
        raise ConfigError(f"no profile named {name!r} in {folder / 'profiles'}")
    db = engine(settings(ctx))
    with progress("backtesting articles", None) as advance:
        result = backtest(db, profile, start, advance)
    if fmt is Output.json:
        report = {
            "profile": name,
            "articles": result.articles,
            "candidates": result.candidates,
            "scan": result.scan,
            "kept": result.kept,
            "added": [{"url": a.url, "title": a.title} for a in result.added],
            "removed": [{"url": a.url, "title": a.title} for a in result.removed],
        }
        print_json(report)
        return
    how = (
        "every article matched (the index cannot narrow this query)"
        if result.scan
        else f"{result.candidates} candidate(s) from the search index"
    )
    out.print(
        f"{name}: {result.articles} stored article(s), {how}; {result.kept} hit(s) kept, "
        f"{len(result.added)} would be added, {len(result.removed)} would be removed"
    )
    for sign, articles in (("+", result.added), ("-", result.removed)):
        for a in articles:
            out.print(plain(f"  {sign} {a.title}  {a.url}"))
