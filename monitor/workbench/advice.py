"""A profile's suggestions from the stored feedback: the hits readers judged (with their
articles' text, feed and address, as the matcher sees them) and the articles they say it
missed, turned into suggestions (suggestions.py), each with what the backtest says it would
do to the archive.

The backtest is the archive's (monitor.archive.backtest), a sibling the workbench does not
import: the caller hands in `effect`, a function of the profile as it is and the profile
with a suggestion taken that says what the second would do to the stored hits beyond what
the first would; the web face builds it from the backtest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from sqlalchemy import Engine

from monitor.profiles.files import current_concepts, current_profiles
from monitor.profiles.nodes import Regex, walk
from monitor.profiles.profile import Profile
from monitor.profiles.query import parse_query
from monitor.store.feedback import labelled_hits, missed_articles
from monitor.store.search import articles_by_id
from monitor.workbench.suggestions import (
    LIMIT,
    Effect,
    Labelled,
    Missed,
    Suggestion,
    Suggestions,
    suggest,
)

EffectOf = Callable[[Profile, Profile], Effect]  # (as it is, as suggested) -> its effect


def suggestions(
    engine: Engine,
    config_dir: Path,
    name: str,
    *,
    effect: EffectOf | None = None,
    limit: int = LIMIT,
) -> Suggestions | None:
    """The suggestions for profile `name` (None: no such profile) from its judged hits and
    missed articles; with `effect`, each carries what the backtest says it would do."""
    profile = next((p for p in current_profiles(config_dir) if p.name == name), None)
    if profile is None:
        return None
    concepts = current_concepts(config_dir)
    found = suggest(
        profile,
        labelled(engine, name),
        missed(engine, name),
        concepts=concepts,
        limit=limit,
    )
    if effect is None:
        return found
    items = [
        replace(item, effect=effect(profile, variant(profile, item, concepts)))
        for item in found.items
    ]
    return replace(found, items=tuple(items))


def labelled(engine: Engine, name: str) -> list[Labelled]:
    """The judged hits of a profile whose article still has its text, with the feed and
    address the matcher's `sources:`, `source:` and `url:` look at."""
    hits = [hit for hit in labelled_hits(engine, name) if hit.text]
    articles = {a.id: a for a in articles_by_id(engine, [hit.article_id for hit in hits])}
    out = []
    for hit in hits:
        article = articles.get(hit.article_id)
        url, source = (article.url, article.source) if article else ("", "")
        out.append(
            Labelled(hit.hit_id, hit.title, hit.text or "", hit.language, hit.relevant, url, source)
        )
    return out


def missed(engine: Engine, name: str) -> list[Missed]:
    """The articles readers say the profile missed."""
    return [Missed(m.id, m.title, m.text, m.language, m.url) for m in missed_articles(engine, name)]


def variant(profile: Profile, item: Suggestion, concepts: dict[str, tuple[str, ...]]) -> Profile:
    """The profile with the suggestion taken: its query is the suggestion's query."""
    regex = any(isinstance(node, Regex) for node in walk(profile.query))
    node = parse_query(item.query, concepts=concepts, allow_regex=regex)
    return replace(profile, query=node, query_text=item.query)
