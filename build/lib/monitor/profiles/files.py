"""Profile files (config/profiles/NAME.yaml): read, validate and turn into Profile records.

Format (the query language of a later version will add a `query:` key beside `match:`):

    description: what the profile follows
    tags: [china]          # alert routing
    min_score: 1
    enabled: true
    match:
      any:  [phrases, at least one must occur]
      all:  [phrases, every one must occur]
      none: [phrases, none may occur]
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.errors import ConfigError
from monitor.models import Profile
from monitor.profiles.normalize import fold_term
from monitor.yamlconfig import read_yaml, validate

PROFILES_DIR = "profiles"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _terms(values: list[str]) -> list[str]:
    for value in values:
        if not fold_term(value):
            raise ValueError(f"empty term {value!r}")
    return values


class _Match(BaseModel):
    model_config = ConfigDict(extra="forbid")

    any: list[str] = []
    all: list[str] = []
    none: list[str] = []

    _check = field_validator("any", "all", "none")(classmethod(lambda cls, v: _terms(v)))

    @model_validator(mode="after")
    def _needs_positive_terms(self) -> _Match:
        if not self.any and not self.all:
            raise ValueError("give at least one phrase under `any` or `all`")
        return self


class _ProfileFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str = ""
    tags: list[str] = []
    min_score: float = Field(default=1.0, ge=0)
    enabled: bool = True
    match: _Match


def load_profile(path: Path) -> Profile:
    """One profile file; its name is the file's stem (a `name:` key, if present, must agree)."""
    name = path.stem
    if not _NAME.match(name):
        raise ConfigError(
            "a profile file name must be lower-case letters, digits, '_' or '-' (e.g. cac.yaml)",
            path=path,
        )
    data = read_yaml(path)
    parsed = validate(_ProfileFile, data, path)
    if parsed.name is not None and parsed.name != name:
        raise ConfigError(
            f"name: {parsed.name!r} differs from the file name {name!r}; rename one of them",
            path=path,
            line=data.lc.key("name")[0] + 1,
        )
    version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return Profile(
        name=name,
        version=version,
        any_terms=tuple(parsed.match.any),
        all_terms=tuple(parsed.match.all),
        none_terms=tuple(parsed.match.none),
        description=parsed.description,
        tags=tuple(parsed.tags),
        min_score=parsed.min_score,
        enabled=parsed.enabled,
    )


def load_profiles(config_dir: Path) -> list[Profile]:
    """Every profile in config_dir/profiles, sorted by name; errors name the file and line."""
    folder = config_dir / PROFILES_DIR
    if not folder.is_dir():
        raise ConfigError("profile folder not found", path=folder)
    paths = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    return [load_profile(path) for path in paths]
