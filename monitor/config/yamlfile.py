"""Reading configuration YAML with line numbers, reporting validation errors at their line, and
writing a file back the way it was (mode, owner)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any, TextIO, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from monitor.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def round_trip_yaml() -> YAML:
    """A YAML reader/writer that keeps comments and positions (safe: builds no Python objects)."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # never fold long URLs onto a second line
    return yaml


def read_yaml(path: Path) -> Any:
    """Parse one YAML file; a syntax error becomes a ConfigError naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", path=path) from None
    return parse_yaml(text, path)


def parse_yaml(text: str, path: Path) -> Any:
    """Parse YAML text meant for `path` (a file read, or an edit not yet saved); a syntax
    error becomes a ConfigError naming the file, line and column."""
    try:
        return round_trip_yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        raise ConfigError(
            f"invalid YAML: {exc.problem or exc.context}", path=path, line=line, column=column
        ) from None
    except YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", path=path) from None


def write_yaml(path: Path, data: Any) -> None:
    """Write `data` over the file at `path` (through a symbolic link, the file it points at):
    into a temporary file beside it, then renamed over it, so a reader sees the old file or
    the new one, never half of one. The new file keeps the old one's mode (a feeds.yaml kept
    0600 stays 0600), and its owner and group where the process may set them (root may; a
    user may keep a group they belong to); a file not there before gets 0666 less the umask.
    The temporary file is never readable by more than the old file is."""
    write_file(path, lambda fh: round_trip_yaml().dump(data, fh))


def write_text(path: Path, text: str) -> None:
    """Write `text` over the file at `path` as write_yaml writes data: atomically, keeping the
    old file's mode and owner."""
    write_file(path, lambda fh: fh.write(text))


def write_file(path: Path, fill: Callable[[TextIO], object]) -> None:
    """What write_yaml and write_text share: `fill` writes the new content."""
    target = path.resolve()
    try:
        old: os.stat_result | None = target.stat()
    except FileNotFoundError:
        old = None
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)  # left by a crash, with whatever mode it had
    mode = stat.S_IMODE(old.st_mode) if old else 0o666
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)  # less the umask, for now
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            if old:
                _keep_owner(fh.fileno(), old)
                os.fchmod(fh.fileno(), mode)  # all of it, bits the umask cleared included
            fill(fh)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _keep_owner(fd: int, old: os.stat_result) -> None:
    """Give the file open at `fd` the owner and group of `old`, or at least the group, as far
    as the process is allowed to (only root may give a file away)."""
    try:
        os.fchown(fd, old.st_uid, old.st_gid)
    except PermissionError:
        with suppress(PermissionError):
            os.fchown(fd, -1, old.st_gid)


def line_of(data: Any, loc: Sequence[int | str]) -> int | None:
    """The 1-based line of the deepest node on `loc` that the YAML reader recorded."""
    line: int | None = None
    node = data
    for key in loc:
        if isinstance(node, CommentedMap) and key in node:
            line = node.lc.key(key)[0] + 1
            node = node[key]
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
            line = node.lc.item(key)[0] + 1
            node = node[key]
        else:
            break
    return line


def dotted(loc: Sequence[int | str]) -> str:
    """Render a pydantic location as `feeds[2].interval`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def validate(model: type[M], data: Any, path: Path) -> M:
    """Validate parsed YAML against a model; all problems are reported, each at its line."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError("expected a mapping of keys at the top level", path=path, line=1)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise located_error(exc, data, path) from None


def located_error(exc: ValidationError, data: Any, path: Path) -> ConfigError:
    """Turn a pydantic ValidationError into one ConfigError listing each problem with its line."""
    problems: list[tuple[int | None, str]] = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if isinstance(p, int | str)]
        message = err["msg"].removeprefix("Value error, ")
        problems.append((line_of(data, loc), f"{dotted(loc)}: {message}"))
    first_line = next((line for line, _ in problems if line), None)
    if len(problems) == 1:
        return ConfigError(problems[0][1], path=path, line=first_line)
    listed = [f"line {line}, {text}" if line else text for line, text in problems]
    return ConfigError("\n  " + "\n  ".join(listed), path=path, line=first_line)
