"""Saving a profile from the web application or the API: checked as the service would load
it (an invalid edit is never written), refused when the file changed on disk since the
editor opened it, written atomically, and kept as a version that can be restored. The
running service sees the new file at its next tick, as it does for a file edited by hand."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache, partial
from pathlib import Path

from sqlalchemy import Engine

from monitor.config.yamlfile import write_text
from monitor.profiles.editing import digest
from monitor.profiles.files import PROFILES_DIR, check_name, current_concepts, parse_profile
from monitor.profiles.learned import LEARNED_FILE, LearnedModel, load_model
from monitor.profiles.profile import Profile
from monitor.store.profileversions import record_version, version_by_id, versions

FOUND_ON_DISK = "as found on disk before the first save from here"
_SAVING = threading.Lock()  # one save at a time in this process: check, write and record


class Conflict(Exception):
    """The file is not what the editor opened: someone saved or edited it meanwhile (or it
    was created, or removed). `current` is the file as it is now (None: not there)."""

    def __init__(self, name: str, current: str | None, message: str) -> None:
        super().__init__(message)
        self.name, self.current, self.message = name, current, message


class NoSuchVersion(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class Saved:
    profile: Profile
    version: int
    text: str


def profile_path(config_dir: Path, name: str) -> Path:
    """Where profile `name` lives: its .yaml file (or an existing .yml one)."""
    folder = config_dir / PROFILES_DIR
    other = folder / f"{name}.yml"
    path = other if other.is_file() else folder / f"{name}.yaml"
    check_name(path)
    return path


def read_profile(config_dir: Path, name: str) -> str | None:
    """The profile file's text; None when there is no such profile."""
    try:
        return profile_path(config_dir, name).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def check_profile(config_dir: Path, name: str, text: str) -> Profile:
    """The profile `text` would make as config/profiles/NAME.yaml, with the concepts and the
    learned model on disk now: a ConfigError (line, column) when it is not valid."""
    path = profile_path(config_dir, name)
    model = partial(_model, config_dir / LEARNED_FILE)
    return parse_profile(path, text, current_concepts(config_dir), model)


def _model(path: Path) -> LearnedModel:
    """The learned model, read again only when its file changed (an editor checks as its
    user types: the 0.5 MB file is not parsed at every keystroke)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return load_model(path)  # its own error
    return _model_of(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=2)
def _model_of(path: Path, _mtime: int, _size: int) -> LearnedModel:
    return load_model(path)


def save_profile(
    engine: Engine,
    config_dir: Path,
    name: str,
    text: str,
    *,
    base: str | None,
    who: str,
    note: str = "",
    now: datetime | None = None,
) -> Saved:
    """Write `text` as profile `name` and keep it as a version. `base` is the digest
    (monitor.profiles.editing.digest) of the file as the editor opened it, "" for a profile
    that did not exist, None to overwrite whatever is there (the API's PUT without
    If-Match). Raises ConfigError for an invalid profile, Conflict when the file is not
    `base`; nothing is written then."""
    now = now or datetime.now(UTC)
    with _SAVING:
        profile = check_profile(config_dir, name, text)
        path = profile_path(config_dir, name)
        current = read_profile(config_dir, name)
        if base == "" and current is not None:
            raise Conflict(name, current, f"a profile named {name!r} exists already")
        if base and current is None:
            raise Conflict(name, None, f"profile {name!r} was removed since it was opened")
        if base and current is not None and digest(current) != base:
            raise Conflict(name, current, f"{path.name} changed on disk since it was opened")
        if current is not None and not versions(engine, name, limit=1):
            found_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            record_version(engine, name, current, "file", found_at, FOUND_ON_DISK)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, text)
        version = record_version(engine, name, text, who, now, note)
    return Saved(profile, version, text)


def restore_version(
    engine: Engine,
    config_dir: Path,
    name: str,
    version_id: int,
    *,
    base: str | None,
    who: str,
) -> Saved:
    """Save version `version_id` of profile `name` again, as its newest version."""
    old = version_by_id(engine, name, version_id)
    if old is None:
        raise NoSuchVersion(f"profile {name!r} has no version {version_id}")
    note = f"restored version {version_id} ({old.saved_at:%Y-%m-%d %H:%M} UTC, {old.saved_by})"
    return save_profile(engine, config_dir, name, old.text, base=base, who=who, note=note)
