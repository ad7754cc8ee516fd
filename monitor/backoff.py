"""Backoff: how long to wait before trying again after failures in a row, for feeds and for
deliveries alike (one formula, so the two never drift apart)."""

from __future__ import annotations

import random

JITTER = 0.1  # ±10 %: things that failed together do not all come back at the same moment
_MAX_DOUBLINGS = 64  # 2**64 × any base passes every cap: no need to compute further


def backoff(base: float, failures: int, cap: float, *, rng: random.Random | None = None) -> float:
    """Seconds to wait after `failures` failures in a row: `base` doubled per failure after
    the first, at most `cap` (never below `base`), then ±JITTER. No failure: `base` exactly."""
    if failures <= 0:
        return base
    delay = min(base * 2.0 ** min(failures - 1, _MAX_DOUBLINGS), max(cap, base))
    return delay * (1 + (rng or random).uniform(-JITTER, JITTER))
