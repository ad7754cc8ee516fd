"""How much page fetching one cycle may spend per host: a feed listing thousands of new
entries on one site must not take the cycle (or the site) over."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit


class HostBudget:
    """Pages fetched per host in one cycle, at most `limit` each (0: no limit)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.spent: Counter[str] = Counter()

    def take(self, url: str) -> bool:
        """Count one page of `url`'s host; False (nothing counted) once its budget is spent."""
        host = host_of(url)
        if self.limit and self.spent[host] >= self.limit:
            return False
        self.spent[host] += 1
        return True


def host_of(url: str) -> str:
    """The host a budget counts `url` against (lower case, port kept; "" when unreadable)."""
    try:
        return urlsplit(url).netloc.rpartition("@")[2].lower()
    except ValueError:
        return ""
