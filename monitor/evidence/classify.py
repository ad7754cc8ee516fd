"""What a re-check of an archived article found: the rules, in the order they apply.

1. No HTTP answer, a 5xx or a 429: unreachable. A site that is down says nothing about the
   article; the caller decides how long to wait before reporting it. Never "removed".
2. 404 or 410: removed.
3. Another 4xx (401, 403, 451, ...): removed only when the page says so (a removal phrase),
   else unreachable with the status: a block or a login wall is not a deletion.
4. A redirect to the site's home page, a section page or another site: removed.
5. A removal notice on the page that the article itself did not hold: removed.
6. The page answers like the probe (an address of the same site that cannot exist): removed.
7. No article text on a 2xx: unreachable ("no article text"): an extractor that found nothing
   has not shown that the text went away.
8. The text compared with the text kept before (textdiff.compare): more than EDITED of it
   changed is edited, with the sentences; else unchanged.

EDITED is 0.0: any sentence that is not boilerplate changing is an edit. On the 1,294
labelled texts, 9,409 re-renderings of them all measure a share of exactly 0.0, while the
smallest of 5,031 edits measures 0.0048 and a threshold of 0.01 would already miss 25 of
them: there is nothing to trade. The figures and the reasoning: benchmarks/evidence_threshold.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from monitor.evidence.removal import redirect_kind, says_removed, similar_to_missing
from monitor.evidence.textdiff import compare

Kind = Literal["original", "unchanged", "edited", "removed", "unreachable"]

EDITED = 0.0  # share of changed text above which it is "edited" (module docstring)


@dataclass(frozen=True, slots=True)
class Fetched:
    """What a re-check got."""

    status: int | None  # None: no HTTP answer (network failure, timeout)
    url: str  # after redirects
    text: str = ""  # extracted article text ("" when none)
    title: str = ""
    reason: str = ""  # the failure, when status is None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What became of the article, said in one readable line, with the sentences an edit
    removed and added."""

    kind: Kind
    reason: str
    removed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()


def classify(
    original_url: str,
    previous_text: str,
    fetched: Fetched,
    probe: Fetched | None = None,
    *,
    original_text: str | None = None,
) -> Verdict:
    """The verdict on `fetched`, a re-check of `original_url` whose text was `previous_text`
    at the last check (`original_text`: as first published, when kept; it decides which
    removal phrases the article held itself). `probe`: the site's answer to an address that
    cannot exist, when the caller fetched one."""
    own = previous_text if original_text is None else original_text
    verdict = _by_status(fetched, own) or _by_page(original_url, fetched, probe, own)
    if verdict is not None:
        return verdict
    if not fetched.text.strip():
        return Verdict("unreachable", "no article text")
    change = compare(previous_text, fetched.text)
    if change.share > EDITED:
        reason = _edited(change.share, change.removed, change.added)
        return Verdict("edited", reason, change.removed, change.added)
    if not change.share:
        return Verdict("unchanged", "no sentence changed")
    return Verdict("unchanged", f"{_percent(change.share)} of the text changed, under {EDITED:.1%}")


def _by_status(fetched: Fetched, own: str) -> Verdict | None:
    """Rules 1-3, and any status but 2xx left after them (a redirect that was not followed)."""
    status = fetched.status
    if status is None:
        return Verdict("unreachable", fetched.reason or "no answer")
    if status >= 500 or status == 429:
        return Verdict("unreachable", f"HTTP {status}")
    if status in (404, 410):
        return Verdict("removed", f"HTTP {status}")
    if 400 <= status < 500:
        notice = says_removed(fetched.text, fetched.title, own)
        if notice:
            return Verdict("removed", f"HTTP {status}; the page says {notice}")
    if not 200 <= status < 300:
        return Verdict("unreachable", f"HTTP {status}")
    return None


def _by_page(
    original_url: str, fetched: Fetched, probe: Fetched | None, own: str
) -> Verdict | None:
    """Rules 4-6: a 2xx page that stands where the article was removed."""
    where = redirect_kind(original_url, fetched.url)
    if where:
        return Verdict("removed", f"redirected to {where} {fetched.url}")
    notice = says_removed(fetched.text, fetched.title, own)
    if notice:
        return Verdict("removed", f"the page says {notice}")
    if (
        probe is not None
        and probe.status == 200
        and probe.text
        and similar_to_missing(fetched.text, probe.text)
    ):
        return Verdict("removed", "answers like a page that does not exist")
    return None


def _edited(share: float, removed: tuple[str, ...], added: tuple[str, ...]) -> str:
    """An edit's reason: "23% of the text changed (3 sentences removed, 2 added)"."""
    parts = []
    if removed:
        parts.append(f"{len(removed)} sentence{'s' * (len(removed) != 1)} removed")
    if added:
        noun = "" if parts else f" sentence{'s' * (len(added) != 1)}"
        parts.append(f"{len(added)}{noun} added")
    return f"{_percent(share)} of the text changed ({', '.join(parts)})"


def _percent(share: float) -> str:
    """A share as a percentage a reader can compare: whole above 1%, one decimal below, and
    never "0%" for a change that happened."""
    if share >= 0.01:
        return f"{share:.0%}"
    return f"{max(share, 0.001):.1%}"
