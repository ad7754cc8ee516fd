"""A profile's result on one text as data (what `profiles test --format json` prints and
POST /api/v1/profiles/test answers), and a query typed on its own as a profile to test."""

from __future__ import annotations

from typing import Any

from monitor.profiles.explain import explain
from monitor.profiles.matcher import Outcome
from monitor.profiles.profile import Profile
from monitor.profiles.query import parse_query
from monitor.profiles.querysyntax import query_warnings

AD_HOC = "(query)"


def outcome_record(result: Outcome, with_tree: bool) -> dict[str, Any]:
    """One profile's result for scripts: a profile that does not match has no terms, score or
    snippets, and says why not."""
    matched = result.matched
    record: dict[str, Any] = {
        "profile": result.profile.name,
        "matched": matched,
        "matched_terms": result.matched_terms if matched else [],
        "score": result.score if matched else 0,
        "snippets": result.snippets,
        "language": result.evaluation.doc.language,
        "why_not": result.why_not or None,
        "learned": result.learned,  # the learned check's probability, where consulted
        "warnings": list(result.profile.warnings),
    }
    if with_tree:
        record["explain"] = explain(result.evaluation, result.score)
    return record


def ad_hoc_profile(
    query: str, concepts: dict[str, tuple[str, ...]], where: str = "--query"
) -> Profile:
    """A query alone as a profile without filters or a minimum score (QueryError when it
    does not parse); its warnings are placed at `where`:line:column."""
    parsed = parse_query(query, concepts=concepts, allow_regex=True)
    warnings = tuple(
        f"{where}:{w.line}:{w.column}: {w.message}\n{w.caret()}" for w in query_warnings(query)
    )
    return Profile(
        name=AD_HOC, version="", query=parsed, query_text=query, min_score=0, warnings=warnings
    )
