"""`monitor run` and `monitor db …`: the service itself and database maintenance."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from monitor.cli.common import config_dir, engine, out, settings

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


def run(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Run one full cycle, then exit.")] = False,
    everything: Annotated[
        bool, typer.Option("--all", help="With --once: poll every enabled feed, due or not.")
    ] = False,
) -> None:
    """Run the service (or one cycle with --once)."""
    from monitor.service import Service  # noqa: PLC0415  (keeps quick commands light)

    if everything and not once:
        raise typer.BadParameter("--all only applies together with --once", param_hint="--all")
    loaded = settings(ctx)
    service = Service(config_dir(ctx), loaded, engine(loaded))
    if once:
        asyncio.run(service.run_once(everything=everything))
    else:
        asyncio.run(service.run_forever())


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create the database or bring its schema up to date."""
    engine(settings(ctx))
    out.print("database schema is up to date")
