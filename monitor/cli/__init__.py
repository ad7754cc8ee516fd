"""The `monitor` command: thin modules, one per command group, calling the layers below."""

from __future__ import annotations

import sys

import typer

from monitor.cli.alerts import alerts_app
from monitor.cli.common import root_options
from monitor.cli.derive import profiles_derive
from monitor.cli.evidence import evidence_app
from monitor.cli.feeds import feeds_app
from monitor.cli.hits import hits
from monitor.cli.profiles import profiles_app
from monitor.cli.run import db_app, run
from monitor.cli.search import search_command
from monitor.cli.status import status
from monitor.cli.web import web
from monitor.errors import ConfigError, DatabaseCorrupt, MonitorError, StoreError

app = typer.Typer(
    help="Governance-news monitor: polls feeds, matches profiles, stores hits, sends alerts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # plain (click) help for every command: rich's option panels show a metavar on flags too
    # (`--once <bool>`); here a flag shows none and a value its own (DURATION, FILE …)
    rich_markup_mode=None,
)
app.callback()(root_options)
app.command()(run)
app.command()(hits)
app.command("search")(search_command)
app.command()(status)
app.command()(web)
app.add_typer(feeds_app, name="feeds")
profiles_app.command("derive")(profiles_derive)  # its own module: profiles.py stays small
app.add_typer(profiles_app, name="profiles")
app.add_typer(alerts_app, name="alerts")
app.add_typer(db_app, name="db")
app.add_typer(evidence_app, name="evidence")


# What each error the monitor raises on purpose exits with, most specific first: the one place
# the exit codes are decided (docs/operations.md lists them). Click's usage errors exit 2 too.
EXIT_CODES: tuple[tuple[type[MonitorError], str, int], ...] = (
    (ConfigError, "configuration error", 2),
    (DatabaseCorrupt, "database error", 3),
    (StoreError, "database error", 1),
    (MonitorError, "error", 1),
)


def main() -> None:
    """Console entry point: an error of the monitor's exits with its code (EXIT_CODES) and a
    one-line message, never a traceback."""
    try:
        app()
    except MonitorError as exc:
        prefix, code = next((p, c) for kind, p, c in EXIT_CODES if isinstance(exc, kind))
        sys.stderr.write(f"{prefix}: {exc}\n")
        sys.exit(code)
