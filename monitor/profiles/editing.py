"""A profile file as the editor's fields (description, query, tags, alert settings) and those
fields written back into the file's text: the YAML is edited round trip, so its comments,
key order and quoting stay as the file had them; only the keys whose value changed move."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from monitor.config.yamlfile import parse_yaml, round_trip_yaml
from monitor.errors import ConfigError

DEFAULT_ALERT, DEFAULT_DIGEST, DEFAULT_MIN_SCORE = "instant", "daily", 1.0


@dataclass(frozen=True, slots=True)
class Fields:
    """What the editor shows and changes; every other key of the file is kept as it is."""

    description: str = ""
    query: str = ""
    tags: tuple[str, ...] = ()
    alert: str = DEFAULT_ALERT
    digest: str = DEFAULT_DIGEST
    min_score: float = DEFAULT_MIN_SCORE
    enabled: bool = True


def digest(text: str) -> str:
    """What the editor remembers of the file it opened, to find out whether the file changed
    on disk before it saves (16 hex digits of SHA-256)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fields_of(text: str, path: Path) -> Fields:
    """The editor's fields as the file gives them (defaults where it is silent). A file with
    `match:` lists has no query text: the query field starts empty and, once filled, replaces
    the lists."""
    data = _document(text, path)
    tags = data.get("tags") or ()
    return Fields(
        description=str(data.get("description") or ""),
        query=str(data.get("query") or ""),
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
        alert=str(data.get("alert") or DEFAULT_ALERT),
        digest=str(data.get("digest") or DEFAULT_DIGEST),
        min_score=_number(data.get("min_score", DEFAULT_MIN_SCORE)),
        enabled=data.get("enabled", True) is not False,
    )


def with_fields(text: str, path: Path, fields: Fields) -> str:
    """`text` (an empty one for a new profile) with `fields` written into it: a changed value
    replaces the old one where it stood, comments around it kept; a key the file lacks is
    added only when its value is not the default."""
    data = _document(text, path)
    before = fields_of(text, path) if text.strip() else Fields()
    _set(data, "description", fields.description, before.description, "")
    if fields.query != before.query or "query" not in data:
        query = fields.query.strip("\n")
        data["query"] = LiteralScalarString(query + "\n") if "\n" in query else query
        data.pop("match", None)
    if fields.tags != before.tags:
        tags = CommentedSeq(fields.tags)
        old = data.get("tags")
        if not isinstance(old, CommentedSeq) or old.fa.flow_style():
            tags.fa.set_flow_style()  # `tags: [a, b]`, as the shipped profiles write them
        data["tags"] = tags
    _set(data, "alert", fields.alert, before.alert, DEFAULT_ALERT)
    _set(data, "digest", fields.digest, before.digest, DEFAULT_DIGEST)
    min_score: Any = int(fields.min_score) if fields.min_score.is_integer() else fields.min_score
    _set(data, "min_score", min_score, before.min_score, DEFAULT_MIN_SCORE)
    _set(data, "enabled", fields.enabled, before.enabled, True)
    out = io.StringIO()
    round_trip_yaml().dump(data, out)
    return out.getvalue()


def _set(data: CommentedMap, key: str, value: Any, before: Any, default: Any) -> None:
    if value == before and (key in data or value == default):
        return  # unchanged: the file's own spelling of it stays
    if key not in data and value == default:
        return
    data[key] = value


def _document(text: str, path: Path) -> CommentedMap:
    data = parse_yaml(text, path) if text.strip() else None
    if data is None:
        return CommentedMap()
    if not isinstance(data, CommentedMap):
        raise ConfigError("expected a mapping of keys at the top level", path=path, line=1)
    return data


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return DEFAULT_MIN_SCORE  # the validator reports it; the editor shows the default
