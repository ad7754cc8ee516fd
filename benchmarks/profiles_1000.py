"""Keyword profiles for the pipeline benchmarks: the shipped profiles plus generated ones, so
the service's one automaton holds about 1,000 terms, sampled from the pages the farm serves
so that real hits happen.

Terms are 1–3-word letter n-grams of the pages' paragraph text (folded like the matcher
folds) that occur in a single page (of the ~220), so an article matches a few of them, as a
monitor with many narrow profiles would. They go into `match: {any:
[...]}` profiles of about 25 phrases each, named `bench-NN.yaml`.

    write_profiles(config_dir / "profiles", pages, total_terms=1_000, shipped_terms=467)
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import lxml.html
from lxml.etree import ParserError

from benchmarks.matching import grams
from monitor.profiles.normalize import fold

SEED = 1931
DF_BAND = (0.0, 0.005)  # share of the distinct pages a sampled term occurs in (at least 1)
TERMS_PER_PROFILE = 25
MAX_TERM_CHARS = 40


def page_text(page: bytes) -> str:
    """The paragraph text of an HTML page (cheap: no extraction), '' when it does not parse."""
    try:
        root = lxml.html.fromstring(page)
    except (ParserError, ValueError):
        return ""
    return " ".join(" ".join("".join(map(str, p.itertext())).split()) for p in root.iter("p"))


def sample_terms(pages: Iterable[bytes], count: int, seed: int = SEED) -> list[str]:
    """`count` distinct terms found in few of the distinct `pages` (fewer when they hold fewer)."""
    texts = [fold(page_text(page))[0] for page in dict.fromkeys(pages)]
    texts = [t for t in texts if t]
    if not texts or count <= 0:
        return []
    df = Counter(g for t in texts for g in grams(t, "en") if len(g) <= MAX_TERM_CHARS)
    low = max(1, math.ceil(DF_BAND[0] * len(texts)))
    high = max(low, math.floor(DF_BAND[1] * len(texts)))
    pool = sorted(g for g, n in df.items() if low <= n <= high)
    random.Random(seed).shuffle(pool)
    return pool[:count]


def profile_yaml(number: int, terms: list[str]) -> str:
    """One `match: {any: [...]}` profile (JSON is YAML, and quotes every phrase safely)."""
    body = {
        "description": f"Benchmark profile {number}: phrases sampled from the farm's pages.",
        "tags": ["bench"],
        "match": {"any": terms},
    }
    return json.dumps(body, ensure_ascii=False, indent=1) + "\n"


def write_profiles(
    folder: Path, pages: Iterable[bytes], *, total_terms: int = 1_000, shipped_terms: int = 0
) -> int:
    """Write bench-NN.yaml profiles into `folder` so that, with the `shipped_terms` already
    there, about `total_terms` terms exist; the number of terms written."""
    terms = sample_terms(pages, total_terms - shipped_terms)
    groups = [terms[i : i + TERMS_PER_PROFILE] for i in range(0, len(terms), TERMS_PER_PROFILE)]
    for number, group in enumerate(groups):
        (folder / f"bench-{number:02d}.yaml").write_text(profile_yaml(number, group), "utf-8")
    return len(terms)
