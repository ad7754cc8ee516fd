"""What a notice of an edited or removed hit article says: a removal as a headline, an edit
with the sentences it removed and added (at most a few of each, shortened)."""

from __future__ import annotations

from monitor.evidence.classify import Verdict
from monitor.store.evidencewatch import Notice, Watched

SHOWN = 5  # sentences of each side an edit's notice shows
LONGEST = 300  # characters of a sentence shown


def notice_of(watched: Watched, verdict: Verdict) -> Notice:
    """The notice of `verdict` on a watched article; its channels are the caller's to fill."""
    title = watched.title or watched.url
    profiles = ", ".join(watched.profiles)
    if verdict.kind == "removed":
        body = (
            f"The article is gone: {verdict.reason}.\n{watched.url}\n"
            f"Profiles: {profiles}. What it said is kept: monitor evidence {watched.url}"
        )
        return Notice((), f"Removed: {title}", body)
    lines = [f"The article was edited: {verdict.reason}.", watched.url, f"Profiles: {profiles}."]
    for heading, sentences in (("Removed", verdict.removed), ("Added", verdict.added)):
        if sentences:
            lines.append(f"{heading}:")
            lines += [f"- {_short(s)}" for s in sentences[:SHOWN]]
            if len(sentences) > SHOWN:
                lines.append(f"- … and {len(sentences) - SHOWN} more")
    return Notice((), f"Edited: {title}", "\n".join(lines))


def _short(sentence: str) -> str:
    sentence = " ".join(sentence.split())
    return sentence if len(sentence) <= LONGEST else sentence[: LONGEST - 1] + "…"
