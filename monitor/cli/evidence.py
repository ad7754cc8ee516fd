"""`monitor evidence`: what a hit article's page said when it was fetched, version by version,
and the same as a WARC file (`export`). `monitor evidence HIT_ID|URL` is `show`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from monitor.archive.evidence import write_bundle
from monitor.cli.common import (
    TABLE_OR_JSON,
    TableOrJson,
    config_dir,
    engine,
    out,
    plain,
    print_json,
    settings,
)
from monitor.config.settings import evidence_folder
from monitor.errors import MonitorError
from monitor.store.evidence import Version, article_of, versions


class _ShowByDefault(typer.core.TyperGroup):
    """`monitor evidence 42` and `monitor evidence https://…` run `show`; a word that names
    a command runs that command."""

    # the context is click's as typer vendors it (typer._click): not a public name
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


evidence_app = typer.Typer(
    cls=_ShowByDefault,
    no_args_is_help=True,
    help="What hit articles' pages said when fetched (docs/evidence.md).",
)

Which = Annotated[
    str, typer.Argument(metavar="HIT_ID|URL", help="A hit's id, or an article's address.")
]


@evidence_app.command("show")
def show(
    ctx: typer.Context,
    which: Which,
    fmt: Annotated[
        TableOrJson, typer.Option("--format", metavar=TABLE_OR_JSON, help="Output format.")
    ] = TableOrJson.table,
) -> None:
    """The versions of a hit article's page, oldest first: when fetched, the HTTP status,
    what became of the article (original, unchanged, edited, removed, unreachable) and the
    SHA-256 of the body kept. `monitor evidence HIT_ID` is the same.

    \b
    Example: monitor evidence show 42 --format json
    """
    found = _versions(ctx, which)
    if fmt == TableOrJson.json:
        print_json([version.record() for version in found])
        return
    table = Table("fetched", "HTTP", "classification", "sha256", "reason")
    for version in found:
        table.add_row(
            version.fetched_at.strftime("%Y-%m-%d %H:%M:%S"),
            str(version.http_status or "–"),
            version.classification,
            (version.sha256 or "–")[:16],
            plain(version.reason),
        )
    out.print(table)


@evidence_app.command("export")
def export(
    ctx: typer.Context,
    hit: Annotated[str, typer.Argument(metavar="HIT_ID|URL", help="A hit's id, or an address.")],
    output: Annotated[
        Path,
        typer.Option("-o", "--output", metavar="FILE.warc.gz", help="The WARC file to write."),
    ],
) -> None:
    """Write every kept version of a hit article's page to one WARC file (gzipped), which
    any WARC tool reads and replays (warcio, pywb, ReplayWeb.page).

    \b
    Example: monitor evidence export 42 -o hit42.warc.gz
    """
    loaded = settings(ctx)
    found = _versions(ctx, hit)
    folder = evidence_folder(loaded, config_dir(ctx))
    with output.open("wb") as stream:
        count = write_bundle(stream, folder, found, f"the page of {found[0].url} as fetched")
    out.print(f"{count} records of {len(found)} version(s) written to {output}")


@evidence_app.command("recheck")
def recheck(
    ctx: typer.Context,
    everything: Annotated[
        bool, typer.Option("--all", help="Every watched article, not only the due ones.")
    ] = False,
    fmt: Annotated[
        TableOrJson, typer.Option("--format", metavar=TABLE_OR_JSON, help="Output format.")
    ] = TableOrJson.table,
) -> None:
    """Fetch the hit articles due for a re-check again now (all watched ones with --all),
    record what became of each, and send the notices of edits and removals. The running
    service does this every cycle (evidence.recheck); this is for operators and tests.

    \b
    Example: monitor evidence recheck --all
    """
    from monitor.runtime import lifecycle  # noqa: PLC0415  (keeps quick commands light)
    from monitor.runtime.service import Service  # noqa: PLC0415

    loaded = settings(ctx)
    service = Service(config_dir(ctx), loaded, engine(loaded))
    try:
        done = asyncio.run(lifecycle.recheck_once(service, everything=everything))
    finally:
        service.engine.dispose()
    if fmt == TableOrJson.json:
        print_json(
            {"checked": done.checked, "verdicts": dict(done.verdicts), "notices": done.notices}
        )
        return
    counts = ", ".join(f"{kind} {n}" for kind, n in sorted(done.verdicts.items())) or "none due"
    out.print(f"re-checked {done.checked}: {counts}; {done.notices} notice(s) queued")


def _versions(ctx: typer.Context, which: str) -> list[Version]:
    loaded = settings(ctx)
    db = engine(loaded)
    try:
        article = article_of(db, which)
        if article is None:
            raise MonitorError(f"no hit or article {which!r}: give a hit's id or an address")
        found = versions(db, article)
    finally:
        db.dispose()
    if not found:
        raise MonitorError(
            f"nothing is kept for {which!r}: evidence is kept for articles with hits, from "
            "the version that keeps it on (see docs/evidence.md)"
        )
    return found
