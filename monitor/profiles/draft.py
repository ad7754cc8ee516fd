"""A draft profile as derive.py makes it: what was found in the document, the query, and the
profile file with comments saying what was derived from what. Whatever the document holds (it
may be a stranger's page), the file is valid YAML: the document's text enters only comments,
single lines without control characters, and JSON-quoted strings (a double-quoted YAML
scalar)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from monitor.profiles.names import Name
from monitor.profiles.normalize import printable
from monitor.profiles.profile import Profile
from monitor.profiles.query import parse_query

WIDTH = 92  # characters of a query line before it wraps
_BREAKS = str.maketrans({"\u2028": " ", "\u2029": " ", "\x85": " ", "\t": " ", "\n": " "})


@dataclass(frozen=True, slots=True)
class Found:
    """A concept the document mentions: how often, with which of its terms, and whether it is
    broad (context for the query) rather than a named thing (an alternative)."""

    name: str
    count: int
    terms: tuple[str, ...]
    broad: bool


@dataclass(frozen=True, slots=True)
class Candidate:
    """A key phrase or an organisation: how often the matcher finds it in the document, its
    score (phrases: 1.0 for the best) and why it is not in the query ("" when it is)."""

    text: str
    count: int
    score: float | None = None
    why_not: str = ""


@dataclass(frozen=True)
class Draft:
    """What was derived from a document, and the query and profile file made of it."""

    name: str
    title: str
    language: str | None
    query: str
    concepts: tuple[Found, ...]
    phrases: tuple[Candidate, ...]
    organisations: tuple[Candidate, ...]
    people: tuple[Name, ...]
    source: str = ""  # where the document came from (a file, a URL), for the file's comments
    known: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def profile(self) -> Profile:
        """The draft as a profile (what `profile_file` would load), to test or backtest."""
        parsed = parse_query(self.query, concepts=self.known)
        return Profile(name=self.name, version="draft", query=parsed, query_text=self.query)

    def yaml(self) -> str:
        """The profile file: description, tags, languages and query, with comments saying it
        is a draft and what was derived from what."""
        return profile_file(self)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "language": self.language,
            "query": self.query,
            "concepts": [
                {"name": c.name, "count": c.count, "terms": list(c.terms), "broad": c.broad}
                for c in self.concepts
            ],
            "phrases": [_candidate(c) for c in self.phrases],
            "organisations": [_candidate(c) for c in self.organisations],
            "people": [{"text": p.text, "count": p.count} for p in self.people],
        }


def _candidate(c: Candidate) -> dict[str, Any]:
    return {"text": c.text, "count": c.count, "score": c.score, "in_query": not c.why_not,
            "why_not": c.why_not or None}  # fmt: skip


def quoted(text: str) -> str:
    """`text` as a quoted phrase of the query language."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrapped(alternatives: list[str], context: list[str]) -> str:
    """`a OR b OR …`, or `(a OR b …) AND (c OR d)` with context, on lines of WIDTH at most."""
    if not context:
        return "\n".join(_joined(alternatives, "", group=False))
    return "\n".join([*_joined(alternatives, ""), *_joined(context, "AND ")])


def _joined(parts: list[str], opening: str, *, group: bool = True) -> list[str]:
    """`opening(a OR b … OR z)`, wrapped; no parentheses around one part."""
    grouped = group and len(parts) > 1
    lines: list[str] = []
    line = opening + ("(" if grouped else "")
    for i, part in enumerate(parts):
        if i and len(line) + len(part) + 4 > WIDTH:
            lines.append(line)
            line = f"  OR {part}"
        else:
            line += f" OR {part}" if i else part
    lines.append(line + (")" if grouped else ""))
    return lines


def one_line(text: str, limit: int = 120) -> str:
    """Text from the document for a comment or a string: one line, printable, shortened."""
    flat = " ".join(printable(text.translate(_BREAKS)).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _candidates(items: tuple[Candidate, ...], limit: int) -> list[str]:
    lines = []
    for c in items[:limit]:
        score = "" if c.score is None else f"{c.score:4.2f}  "
        note = "in the query" if not c.why_not else f"left out: {c.why_not}"
        lines.append(f"#   {score}{one_line(c.text, 60)} ({c.count}×) — {note}")
    return lines


def profile_file(draft: Draft) -> str:
    """A complete profile file: comments, then description, tags, languages and query."""
    where = f" ({one_line(draft.source, 100)})" if draft.source else ""
    language = draft.language or "unknown"
    lines = [
        "# A DRAFT derived by `monitor profiles derive` from one document, not a tested profile:",
        f"#   {one_line(draft.title or '(no headline)', 100)}{where}",
        f"#   language: {one_line(language, 20)}",
        "# Read it, try it on texts it must and must not match (`monitor profiles test NAME",
        "# --file …`), backtest it (`monitor profiles backtest NAME`), and edit. Saved in",
        "# config/profiles/, it matches and alerts from the running monitor's next tick.",
        "#",
        "# Concepts of config/concepts.yaml the document mentions (times; terms found):",
    ]
    for c in draft.concepts:
        role = "context: the AND group" if c.broad else "an alternative"
        terms = one_line(", ".join(c.terms), 60)
        lines.append(f"#   @{c.name} ({c.count}×: {terms}) — {role}")
    if not draft.concepts:
        lines.append("#   none")
    lines += ["#", "# Key phrases (YAKE; jieba TF-IDF for Chinese), best first, with their score:"]
    lines += _candidates(draft.phrases, 15) or ["#   none"]
    lines += ["#", "# Organisations named:"]
    lines += _candidates(draft.organisations, 10) or ["#   none found"]
    lines += ["#", "# People named (never put in the query: add the ones the profile follows):"]
    people = ", ".join(f"{one_line(p.text, 40)} ({p.count}×)" for p in draft.people[:10])
    lines.append(f"#   {people or 'none found'}")
    description = one_line(f"Draft from: {draft.title or draft.source or draft.name}", 150)
    lines += [
        f"description: {json.dumps(description, ensure_ascii=False)}",
        "tags: [draft]",
        "# The phrases are in the document's language; the concepts match every language they",
        "# list. Name languages here (en, zh …) to keep only articles in those.",
        "languages: []",
        "# No passing mentions (docs/profiles.md, Focus): uncomment to require the evidence in",
        "# the headline, the first 5 sentences or 2 places.",
        "# focus: {lead: 5, mentions: 2}",
        "query: |",
        *(f"  {line}" for line in draft.query.splitlines()),
    ]
    return "\n".join(lines) + "\n"
