"""Profile files (config/profiles/NAME.yaml): read, validate and turn into Profile records.

    description: What the profile follows.
    query: '"great firewall" OR 防火长城 OR (@CAC NEAR/10 (block* OR 屏蔽))'
    languages: [en, zh]      # optional: only articles in these languages (code prefixes)
    sources: [Xinhua]        # optional: only articles from feeds/sites with these names
    tags: [china-internet]   # alert routing
    alert: instant           # or digest
    digest: daily            # with alert: digest, the schedule (named in alerts.yaml)
    min_score: 1
    focus: {lead: 3}         # optional: the evidence must be in the first 3 sentences (focus.py)
    learned: {veto: 0.05, rescue: 0.8}  # optional: consult config/learned.json (learned.py)
    regex: false             # true allows /regular expressions/ in the query
    enabled: true

`match: {any: [...], all: [...], none: [...]}` may stand instead of `query` for plain lists.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from functools import cache, lru_cache, partial
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from monitor.config.yamlfile import parse_yaml, validate
from monitor.errors import ConfigError
from monitor.profiles.concepts import CONCEPTS_FILE, load_concepts
from monitor.profiles.learned import LEARNED_FILE, LearnedModel, load_model
from monitor.profiles.lint import describe, lint
from monitor.profiles.nodes import And, Node, Not, Or, Term, walk
from monitor.profiles.normalize import fold_term
from monitor.profiles.profile import Focus, Learned, Profile
from monitor.profiles.query import parse_query
from monitor.profiles.querysyntax import QueryError, QueryWarning, query_warnings

PROFILES_DIR = "profiles"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class _Match(BaseModel):
    model_config = ConfigDict(extra="forbid")

    any: list[str] = []
    all: list[str] = []
    none: list[str] = []

    @model_validator(mode="after")
    def _needs_positive_terms(self) -> _Match:
        if not self.any and not self.all:
            raise ValueError("give at least one phrase under `any` or `all`")
        for term in (*self.any, *self.all, *self.none):
            if not fold_term(term):
                raise ValueError(f"phrase {term!r} is empty once folded")
        return self


class _Focus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lead: int = Field(ge=1, le=50)
    mentions: int = Field(default=0, ge=0, le=50)


class _LearnedSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    veto: float = Field(default=0.0, ge=0, le=1)
    rescue: float | None = Field(default=None, gt=0, le=1)


class _ProfileFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str = ""
    query: str | None = None
    match: _Match | None = None
    languages: list[str] = []
    sources: list[str] = []
    tags: list[str] = []
    alert: Literal["instant", "digest"] = "instant"
    digest: str = "daily"
    min_score: float = Field(default=1.0, ge=0)
    focus: _Focus | None = None
    learned: _LearnedSettings | None = None
    regex: bool = False
    enabled: bool = True
    notify_changes: bool = True

    @model_validator(mode="after")
    def _one_query(self) -> _ProfileFile:
        if (self.query is None) == (self.match is None):
            raise ValueError("give either `query` or `match` (not both)")
        return self


def _from_lists(match: _Match) -> Node:
    """`match:` lists as a query: (any₁ OR any₂ …) AND all₁ AND … AND NOT none₁ …"""
    parts: list[Node] = []
    if match.any:
        terms = tuple(Term(t, source=t) for t in match.any)
        parts.append(terms[0] if len(terms) == 1 else Or(terms, " OR ".join(match.any)))
    parts += [Term(t, source=t) for t in match.all]
    parts += [Not(Term(t, source=t), f"NOT {t}") for t in match.none]
    return parts[0] if len(parts) == 1 else And(tuple(parts), "match lists")


def _query_position(
    data: Any, where: QueryError | QueryWarning, lines: list[str]
) -> tuple[int, int]:
    """File line and column (1-based) of a place in a plain, quoted or block query scalar."""
    line, column = data.lc.value("query")  # 0-based, where the value starts
    value = data["query"]
    if isinstance(value, LiteralScalarString | FoldedScalarString):
        # the block starts on the line after `query: |`, indented as its first line is
        first = next((text for text in lines[line + 1 :] if text.strip()), "")
        return line + 1 + where.line, len(first) - len(first.lstrip()) + where.column
    quoted = isinstance(value, DoubleQuotedScalarString | SingleQuotedScalarString)
    return line + where.line, column + where.column + int(quoted)


def lint_lines(profile: Profile) -> list[str]:
    """The profile's lint warnings (lint.py) as `path:line:col: lint[rule]: message`, each
    with its query line and a caret (`path: …` alone for a warning without a place)."""
    out = []
    for warning in lint(profile):
        where = str(profile.path)
        if profile.path is not None and warning.line is not None and warning.column is not None:
            text = profile.path.read_text(encoding="utf-8")
            place = QueryWarning("", warning.line, warning.column, "")  # what is read of it
            line, column = _query_position(parse_yaml(text, profile.path), place, text.splitlines())
            where += f":{line}:{column}"
        out.append(describe(warning, where))
    return out


def _warnings(path: Path, data: Any, query: str, text: str) -> tuple[str, ...]:
    """`path:line:col: query: …` and the line with a caret, for each query_warnings."""
    found = query_warnings(query)
    lines = text.splitlines() if found else []
    out = []
    for warning in found:
        line, column = _query_position(data, warning, lines)
        out.append(f"{path}:{line}:{column}: query: {warning.message}\n{warning.caret()}")
    return tuple(out)


def _version(text: bytes, query: Node, concepts: dict[str, tuple[str, ...]]) -> str:
    """A hash of the file and of the concepts its query uses: editing either changes it."""
    digest = hashlib.sha256(text)
    used = sorted({n.concept for n in walk(query) if isinstance(n, Or) and n.concept})
    for name in used:
        digest.update(f"\n@{name}=".encode() + "|".join(concepts[name]).encode())
    return digest.hexdigest()[:12]


def load_profile(
    path: Path,
    concepts: dict[str, tuple[str, ...]],
    model: Callable[[], LearnedModel] | None = None,
) -> Profile:
    """One profile file; its name is the file's stem (a `name:` key, if present, must agree).
    `model` gives the learned model (config/learned.json) to a profile with `learned:`."""
    check_name(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", path=path) from None
    return parse_profile(path, text, concepts, model)


def check_name(path: Path) -> None:
    """A profile's name (its file's stem) is lower-case letters, digits, '_' and '-'."""
    if not _NAME.match(path.stem):
        raise ConfigError(
            "a profile file name must be lower-case letters, digits, '_' or '-' (e.g. cac.yaml)",
            path=path,
        )


def parse_profile(
    path: Path,
    text: str,
    concepts: dict[str, tuple[str, ...]],
    model: Callable[[], LearnedModel] | None = None,
) -> Profile:
    """The profile `text` makes when it is the file at `path` (read from it, or an edit not
    yet saved): a ConfigError with the line and column of what is wrong."""
    name = path.stem
    check_name(path)
    data = parse_yaml(text, path)
    parsed = validate(_ProfileFile, data, path)
    if parsed.name is not None and parsed.name != name:
        raise ConfigError(
            f"name: {parsed.name!r} differs from the file name {name!r}; rename one of them",
            path=path,
            line=data.lc.key("name")[0] + 1,
        )
    if parsed.query is not None:
        try:
            query = parse_query(parsed.query, concepts=concepts, allow_regex=parsed.regex)
        except QueryError as exc:
            lines = text.splitlines()
            line, column = _query_position(data, exc, lines)
            raise ConfigError(
                f"query: {exc.message}\n{exc.caret()}", path=path, line=line, column=column
            ) from None
        warnings = _warnings(path, data, parsed.query, text)
    else:
        assert parsed.match is not None
        query = _from_lists(parsed.match)
        warnings = ()
    learned = _learned(parsed.learned, name, model, path, data)
    version = _version(text.encode(), query, concepts)
    if learned is not None:  # a retrained model changes what the profile matches
        version = hashlib.sha256(f"{version} {learned.model.digest}".encode()).hexdigest()[:12]
    return Profile(
        name=name,
        version=version,
        learned=learned,
        query=query,
        query_text=parsed.query or "",
        description=parsed.description,
        tags=tuple(parsed.tags),
        min_score=parsed.min_score,
        focus=Focus(parsed.focus.lead, parsed.focus.mentions) if parsed.focus else None,
        enabled=parsed.enabled,
        notify_changes=parsed.notify_changes,
        languages=tuple(parsed.languages),
        sources=tuple(parsed.sources),
        alert=parsed.alert,
        digest=parsed.digest,
        path=path,
        warnings=warnings,
    )


def _learned(
    settings: _LearnedSettings | None,
    name: str,
    model: Callable[[], LearnedModel] | None,
    path: Path,
    data: Any,
) -> Learned | None:
    if settings is None:
        return None
    line = data.lc.key("learned")[0] + 1
    if model is None:
        raise ConfigError(f"learned: needs the model file {LEARNED_FILE}", path=path, line=line)
    try:
        loaded = model()
    except ConfigError as exc:  # the profile that asked, and the model file's own complaint
        raise ConfigError(f"learned: {exc}", path=path, line=line) from None
    if name not in loaded.weights:
        raise ConfigError(
            f"learned: {LEARNED_FILE} has no weights for {name!r}; train them with "
            "`python -m benchmarks.learn` or remove `learned:`",
            path=path,
            line=line,
        )
    return Learned(loaded, settings.veto, settings.rescue)


def profile_paths(config_dir: Path) -> list[Path]:
    folder = config_dir / PROFILES_DIR
    if not folder.is_dir():
        raise ConfigError("profile folder not found", path=folder)
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def load_profiles(config_dir: Path) -> list[Profile]:
    """Every profile in config_dir/profiles (with config_dir/concepts.yaml), sorted by name."""
    concepts = load_concepts(config_dir)
    model = cache(partial(load_model, config_dir / LEARNED_FILE))  # read if a profile asks
    return [load_profile(path, concepts, model) for path in profile_paths(config_dir)]


def current_profiles(config_dir: Path) -> list[Profile]:
    """load_profiles, parsed again only when a profile file or concepts.yaml changed (their
    names, sizes and modification times): for readers asking often, like the web pages."""
    return list(_parsed_profiles(config_dir, _signature(config_dir)))


def current_concepts(config_dir: Path) -> dict[str, tuple[str, ...]]:
    """load_concepts, read again only when concepts.yaml changed."""
    return dict(_parsed_concepts(config_dir, _signature(config_dir, profiles=False)))


def _signature(config_dir: Path, *, profiles: bool = True) -> tuple[tuple[str, int, int], ...]:
    paths = [config_dir / CONCEPTS_FILE]
    if profiles:
        paths += [config_dir / LEARNED_FILE, *profile_paths(config_dir)]
    seen = []
    for path in paths:
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        seen.append((path.name, stat.st_mtime_ns, stat.st_size))
    return tuple(seen)


@lru_cache(maxsize=8)
def _parsed_profiles(config_dir: Path, _signature: object) -> tuple[Profile, ...]:
    return tuple(load_profiles(config_dir))


@lru_cache(maxsize=8)
def _parsed_concepts(
    config_dir: Path, _signature: object
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(load_concepts(config_dir).items())
