"""The phrases that set one not-relevant hit apart from the others: what its page repeats
or names and few other judged hits hold. The suggestions (suggestions.py) offer, beside the
exclusions the not-relevant hits share, the best of these for each hit: the exclusion a
person writes for a page is often a phrase said on that page alone ("GhostNet", "Scenic
Zone"), which no ranking across hits brings forward."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from monitor.profiles.normalize import is_cjk
from monitor.workbench.phrases import Found, Tally

PER_HIT_POOL = 60  # phrases of each hit taken further (looked for in the relevant hits)
LENGTH = {1: 1.0, 2: 1.15, 3: 0.9}  # two words name a sense best; three are often chance


def pool_phrases(
    found: Mapping[int, Mapping[str, Found]], every: Mapping[str, Tally]
) -> dict[int, list[str]]:
    """Per not-relevant hit, its PER_HIT_POOL phrases most its own among the not-relevant
    hits (own_weight)."""
    pools: dict[int, list[str]] = {}
    for key, mine in found.items():

        def weight(phrase: str, key: int = key, mine: Mapping[str, Found] = mine) -> float:
            return own_weight(mine[phrase], len(every[phrase].weights), len(found))

        pools[key] = sorted(mine, key=lambda p: (-weight(p), p))[:PER_HIT_POOL]
    return pools


def distinct(ranked: Iterable[str], limit: int, *, held: bool = False) -> list[str]:
    """The first `limit` phrases, without one that holds a phrase before it (as whole words;
    for Chinese, as characters): "qinglang", not also "operation qinglang"; with `held`,
    nor one that a phrase before it holds: "branch offices", not also "branch"."""
    kept: list[str] = []
    for phrase in ranked:
        if any(_holds(phrase, k) or (held and _holds(k, phrase)) for k in kept):
            continue
        kept.append(phrase)
        if len(kept) == limit:
            break
    return kept


def _holds(longer: str, shorter: str) -> bool:
    if is_cjk(shorter[0]):
        return shorter in longer
    return f" {shorter} " in f" {longer} "


def own_weight(seen: Found, holders: int, texts: int) -> float:
    """How much a phrase is one text's own: what the page repeats or names (log of its
    count, 0.75 for a name, 0.5 when it stands near the match) for its length, times its
    rarity among `texts` judged texts of which `holders` hold it."""
    topical = math.log1p(seen.count) + 0.75 * seen.name + 0.5 * seen.near
    rarity = 1 + math.log((1 + texts) / max(holders, 1))
    return topical * LENGTH.get(seen.size, 0.8) * rarity
