"""The query tree of one profile on one article, each clause marked as holding or not."""

from __future__ import annotations

from collections import Counter

from monitor.profiles.evaluate import Evaluation
from monitor.profiles.nodes import (
    And,
    Meta,
    Node,
    Not,
    Or,
    Proximity,
    Regex,
    Term,
    positive_leaves,
)

HOLDS, FAILS = "✓", "✗"
LONG_OR = 6  # a longer OR lists only the alternatives that hold or have a term found


def explain(evaluation: Evaluation, score: float | None = None) -> list[str]:
    """Lines like `✓ OR` / `  ✓ 防火长城  (text ×2)`, then the profile-level filters and,
    given the hit's score and when the query holds, the minimum score."""
    lines: list[str] = []
    _visit(evaluation, evaluation.profile.query, 0, lines)
    profile = evaluation.profile
    if profile.languages:
        ok = any(evaluation.language_is(code) for code in profile.languages)
        lines.append(
            f"{_mark(ok)} languages: {', '.join(profile.languages)}"
            f"  (article: {evaluation.doc.language or 'unknown'})"
        )
    if profile.sources:
        ok = any(evaluation.source_has(name) for name in profile.sources)
        lines.append(f"{_mark(ok)} sources: {', '.join(profile.sources)}")
    if score is not None and evaluation.holds():
        ok = score >= profile.min_score
        lines.append(f"{_mark(ok)} min_score: {profile.min_score:g}  (score {score:g})")
    return lines


def _mark(ok: bool) -> str:
    return HOLDS if ok else FAILS


def _visit(evaluation: Evaluation, node: Node, depth: int, lines: list[str]) -> None:
    lines.append(f"{'  ' * depth}{_mark(evaluation.holds(node))} {_label(evaluation, node)}")
    if isinstance(node, Not):
        _visit(evaluation, node.part, depth + 1, lines)
    elif isinstance(node, Or) and len(node.parts) > LONG_OR:
        shown = [p for p in node.parts if evaluation.holds(p) or _found_in(evaluation, p)]
        for part in shown:
            _visit(evaluation, part, depth + 1, lines)
        if len(shown) < len(node.parts):
            quiet = len(node.parts) - len(shown)
            lines.append(f"{'  ' * (depth + 1)}{FAILS} … {quiet} more alternatives, none found")
    elif isinstance(node, And | Or | Proximity):
        for part in node.parts:
            _visit(evaluation, part, depth + 1, lines)


def _found_in(evaluation: Evaluation, node: Node) -> bool:
    """Whether any term of a clause occurs: a clause that failed on the rest is worth showing."""
    return any(evaluation.occurrences(leaf) for leaf in positive_leaves(node))


def _label(evaluation: Evaluation, node: Node) -> str:
    if isinstance(node, Term | Regex):
        counts = Counter(o.field for o in evaluation.occurrences(node))
        found = ", ".join(f"{field} ×{n}" for field, n in sorted(counts.items()))
        return node.source + (f"  ({found})" if found else "")
    if isinstance(node, Meta):
        return node.source
    if isinstance(node, Not):
        return "NOT"
    if isinstance(node, Proximity):
        return f"within {node.distance} words: {node.source}"
    if isinstance(node, Or) and node.concept:
        return f"{node.source} (any of its aliases)"
    return "AND" if isinstance(node, And) else "OR"
