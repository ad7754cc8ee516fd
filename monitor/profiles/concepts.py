"""Concepts (config/concepts.yaml): named alias lists written once, used in queries as @NAME."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator

from monitor.config.yamlfile import line_of, read_yaml, validate
from monitor.errors import ConfigError
from monitor.profiles.normalize import fold_term

CONCEPTS_FILE = "concepts.yaml"
_NAME = re.compile(r"^[^\s()\":@]+$")


def _aliases(value: str | list[str]) -> list[str]:
    """A list of aliases, or one string with aliases separated by `|`."""
    items = value.split("|") if isinstance(value, str) else value
    aliases = [item.strip() for item in items if item.strip()]
    if not aliases:
        raise ValueError("a concept needs at least one alias")
    for alias in aliases:
        if not fold_term(alias.rstrip("*")):
            raise ValueError(f"alias {alias!r} holds no letters once folded")
        if "*" in alias.rstrip("*") or not alias.strip("*"):
            raise ValueError(f"alias {alias!r}: a wildcard may only end an alias (censor*)")
    return aliases


class _ConceptsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    concepts: dict[str, list[str] | str] = {}

    @field_validator("concepts")
    @classmethod
    def _check(cls, value: dict[str, list[str] | str]) -> dict[str, list[str] | str]:
        for name, aliases in value.items():
            if not _NAME.match(name):
                raise ValueError(f"concept name {name!r} may not contain spaces, quotes, ( ) : @")
            _aliases(aliases)
        return value


def load_concepts(config_dir: Path) -> dict[str, tuple[str, ...]]:
    """Concept name → aliases; an absent file means no concepts."""
    path = config_dir / CONCEPTS_FILE
    if not path.exists():
        return {}
    data = read_yaml(path)
    parsed = validate(_ConceptsFile, data, path)
    concepts = {}
    for name, aliases in parsed.concepts.items():
        try:
            concepts[name] = tuple(_aliases(aliases))
        except ValueError as exc:  # pragma: no cover - checked by the validator above
            raise ConfigError(str(exc), path=path, line=line_of(data, ["concepts", name])) from None
    return concepts
