"""monitor.evidence.recheck.recheck_due with its collaborators handed in (the watch list, the
fetcher and the extractor are its seams): a page that raises something unexpected costs
that page's re-check only; the others are recorded, and it stays leased for a later pass."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from monitor.evidence.recheck import Plan, recheck_due
from monitor.ingest.fetch import Response
from monitor.models import Capture, Extracted
from monitor.store.evidencewatch import Found, Notice, Watched
from monitor.store.warcfiles import Kept

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
TEXT = "The Great Firewall blocked more sites this week. Officials did not comment."


def _watched(article_id: int, url: str) -> Watched:
    return Watched(article_id, url, "t", 0, 0, "original", TEXT, None, None, ("gfw",))


class Watches:
    def __init__(self, due: list[Watched]) -> None:
        self.due = due
        self.recorded: list[tuple[int, Found]] = []
        self.released: list[int] = []

    def claim_due(self, now: datetime, *, limit: int, everything: bool) -> list[Watched]:
        return self.due[:limit]

    def keep(self, capture: Capture) -> Kept | None:
        return Kept("0" * 64, "00/00/x.warc.gz", wrote=True)

    def record(self, watched: Watched, found: Found, now: datetime, notice: Notice | None) -> bool:
        self.recorded.append((watched.article_id, found))
        return True

    def release(self, article_ids: Sequence[int]) -> None:
        self.released += article_ids


class Fetch:
    async def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Response:
        if url.endswith("/broken"):
            raise RuntimeError("a bug the fetcher did not translate")
        return Response(url, 200, b"<html>page</html>", "text/html", None, None)


class Extract:
    async def extract(self, html: bytes, url: str) -> Extracted | None:
        return Extracted(TEXT, "t", None, None, "en", None)


def test_one_pages_surprise_costs_only_its_own_recheck() -> None:
    watches = Watches([_watched(1, "http://site.test/a"), _watched(2, "http://site.test/broken")])
    plan = Plan(schedule=(3600.0, 86400.0), retry=600.0, unreachable_after=3, per_cycle=10)
    done = asyncio.run(
        recheck_due(watches, Fetch(), Extract(), plan, lambda names: ("hook",), lambda: NOW)
    )
    assert [(key, found.classification) for key, found in watches.recorded] == [(1, "unchanged")]
    assert done.checked == 1 and done.verdicts == {"unchanged": 1}
    assert watches.released == []  # the broken one stays leased until its lease expires
