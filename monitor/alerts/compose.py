"""Message text for an alert: title and a Markdown body (Apprise renders it per channel)."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.store.outbox import PendingAlert


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str  # Markdown


def compose(alert: PendingAlert) -> Message:
    """One alert about one hit: profile, linked headline, source, time, terms, snippet."""
    hit = alert.hit
    when = hit.published_at.strftime("%Y-%m-%d %H:%M UTC") if hit.published_at else "date unknown"
    language = f" · {hit.language}" if hit.language else ""
    terms = ", ".join(hit.matched_terms)
    lines = [
        f"**[{_escape(hit.title)}]({hit.url})**",
        "",
        f"{_escape(hit.feed)} · {when}{language}",
        "",
        f"Profile **{hit.profile}** matched: {terms} (score {hit.score:g})",
        "",
        f"> {hit.snippet}",
        "",
        hit.url,
    ]
    if alert.also:
        outlets = ", ".join(f"[{_escape(name)}]({link})" for name, link in alert.also[:10])
        more = f" and {len(alert.also) - 10} more" if len(alert.also) > 10 else ""
        lines += ["", f"Also carried by: {outlets}{more}"]
    if hit.matched_on == "entry":
        lines[5:5] = [f"(matched on the feed's own title and summary; {hit.note})", ""]
    return Message(title=f"[{hit.profile}] {hit.title}", body="\n".join(lines))


def _escape(text: str) -> str:
    return text.replace("[", "\\[").replace("]", "\\]")
