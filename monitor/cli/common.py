"""What every command shares: the console, the configuration folder, settings and database,
the progress display of long work, and output that is safe whoever wrote the text in it
(feeds are written by strangers): plain text for the console, JSON (CSV: monitor.archive.export)."""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text
from sqlalchemy import Engine

from monitor.archive.export import CSV_JOIN
from monitor.config.bounds import Duration, moment_since
from monitor.config.settings import Settings, load_settings
from monitor.errors import ConfigError, StoreError
from monitor.logs import configure_logging
from monitor.profiles.normalize import printable
from monitor.store.engine import anchored, exists, location, open_engine, upgrade

out = Console()


class TableOrJson(StrEnum):
    """`--format` of the commands that print a table for people or JSON for scripts."""

    table = "table"
    json = "json"


TABLE_OR_JSON = "[table|json]"  # its metavar in --help


def print_json(value: object) -> None:
    """Indented JSON on stdout, non-ASCII text (Chinese titles) as is (see json_text)."""
    sys.stdout.write(json_text(value, indent=2) + "\n")


def json_text(value: object, indent: int | None = None) -> str:
    """JSON with non-ASCII text as is, except the characters `printable` drops, written as
    \\u escapes (json.dumps already escapes the other controls): scripts read the same data,
    a terminal showing it has nothing to obey."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    if printable(text) == text:
        return text
    return "".join(ch if printable(ch) else f"\\u{ord(ch):04x}" for ch in text)


def plain(text: str | None) -> Text:
    """Text from outside (a feed's title or name, a stored error) for the console: shown as
    written, never read as rich markup, without control characters (`printable`)."""
    return Text(printable(text or ""))


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def root_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="DIR",
            help="Configuration folder (default: $MONITOR_CONFIG_DIR or ./config).",
            show_default=False,
        ),
    ] = None,
) -> None:
    ctx.obj = config or Path(os.environ.get("MONITOR_CONFIG_DIR") or "config")


def config_dir(ctx: typer.Context) -> Path:
    path: Path = ctx.find_root().obj
    if not path.is_dir():
        raise ConfigError(
            "configuration folder not found (use --config DIR or MONITOR_CONFIG_DIR)", path=path
        )
    return path


def project_dir(config: Path) -> Path:
    """The folder holding the configuration folder, where a relative SQLite path is taken
    from: `./config` gives the working directory (`make run`: the repository's
    data/monitor.db), `/srv/news/config` gives /srv/news, wherever the command runs. The path
    is made absolute as written, without following symbolic links: a `config` that is a link
    into /etc still keeps the database beside it."""
    return Path(os.path.abspath(config)).parent  # noqa: PTH100  (resolve() follows links)


def settings(ctx: typer.Context) -> Settings:
    """The settings of the configuration folder, its database_url anchored: a relative SQLite
    path (the default sqlite:///data/monitor.db too) is taken from `project_dir`."""
    folder = config_dir(ctx)
    loaded = load_settings(folder)
    configure_logging(loaded.log_level)
    url = anchored(loaded.database_url, project_dir(folder))
    return loaded.model_copy(update={"database_url": url})


NO_DATABASE = "no database at {}; run `monitor run` or set MONITOR_DATABASE_URL"


def engine(loaded: Settings, *, create: bool = False) -> Engine:
    """The database of `loaded`, its schema brought up to date. Only the commands that make it
    (`monitor run`, `monitor db upgrade`) pass `create`; the others read, and a database that
    is not there is a StoreError (exit 1) for them, never an empty one made on the spot."""
    opened = open_engine(loaded.database_url, create=create)
    if not create and not exists(opened):
        opened.dispose()
        raise StoreError(NO_DATABASE.format(location(opened)))
    upgrade(opened)
    return opened


DURATION_OR_DATE = "DURATION|DATE"  # the metavar of the options `since` reads


def duration(value: str, option: str, bounds: Duration) -> float:
    """Seconds of a duration option within `bounds`, or a usage error (exit 2) saying which
    durations are accepted: never a number too large for a date to hold."""
    try:
        return bounds.parse(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r}: {exc}", param_hint=option) from None


def since(value: str | None, option: str = "--since") -> datetime | None:
    """`--since` (or `option`): a duration back from now (7d, 12h) or an ISO date."""
    if value is None:
        return None
    try:
        return moment_since(value, datetime.now(UTC))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


@contextmanager
def progress(
    description: str, total: int | None = None, *, console: Console | None = None
) -> Iterator[Callable[[int], None]]:
    """Yield `advance(n)`, counting units of long work on a transient bar on stderr.

    Drawn only when stderr is a terminal (`console`, a test seam, decides for itself):
    pipes, CI logs and captured test output get nothing, and stdout stays the command's own.
    While it is drawn, log lines bound for a terminal are printed above it, not through it.
    """
    if not (console.is_terminal if console else sys.stderr.isatty()):
        yield lambda n: None
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
        transient=True,
        redirect_stdout=False,  # stdout is the result, never part of the display
    )
    with bar, _logs_above(bar.console):
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


@contextmanager
def _logs_above(console: Console) -> Iterator[None]:
    """Point the log handlers that write to a terminal at `console` for the block: a live
    display on that console prints their lines above itself instead of being torn by them."""
    moved: list[tuple[logging.StreamHandler[Any], Any]] = []
    for handler in logging.getLogger().handlers:
        stream = getattr(handler, "stream", None)
        if isinstance(handler, logging.StreamHandler) and stream and stream.isatty():
            moved.append((handler, handler.setStream(_ConsoleLines(console))))
    try:
        yield
    finally:
        for handler, stream in moved:
            handler.setStream(stream)


class _ConsoleLines(io.TextIOBase):
    """A text stream printing each whole line on a console as it is: no markup, no
    highlighting, no wrapping (the terminal wraps a long line, copying it stays one line)."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self._console = console
        self._partial = ""

    def write(self, text: str) -> int:
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            self._console.out(line, highlight=False)
        return len(text)

    def flush(self) -> None:
        if self._partial:
            self._console.out(self._partial, highlight=False)
            self._partial = ""

    def isatty(self) -> bool:
        return self._console.is_terminal


def human_size(size: int | None) -> str:
    """Bytes in binary units: 512 B, 3.2 KiB, 41.0 MiB; "unknown" for None."""
    if size is None:
        return "unknown"
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    value, unit = float(size), 0
    while value >= 1024 and unit < len(units) - 1:
        value, unit = value / 1024, unit + 1
    return f"{size} B" if unit == 0 else f"{value:.1f} {units[unit]}"


class ListFormat(StrEnum):
    """How a list of records is printed: a table for people, JSON, JSON lines or CSV."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


def list_format_option(lists: str) -> Any:
    """The --format option of a command printing records (`lists`: what CSV joins)."""
    return typer.Option(
        "--format",
        metavar="[table|json|jsonl|csv]",
        help=f"Output format; in CSV, {lists} are joined by {CSV_JOIN!r}.",
    )
