"""Time spent per pipeline stage: summed wall time of the work in that stage (feeds and articles
run concurrently, so the sums can exceed the cycle's own duration)."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

STAGES = (
    "fetch_feed",
    "parse",
    "fetch_article",
    "extract",
    "match",
    "store",
    "recheck",
    "deliver",
)


class StageTimes:
    """Seconds and calls per stage name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - started
            self.calls[name] += 1

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {
            name: {"seconds": round(self.seconds[name], 6), "calls": self.calls[name]}
            for name in STAGES
            if name in self.calls
        }
