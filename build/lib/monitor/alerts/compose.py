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
    when = (
        alert.published_at.strftime("%Y-%m-%d %H:%M UTC") if alert.published_at else "date unknown"
    )
    language = f" · {alert.language}" if alert.language else ""
    terms = ", ".join(alert.matched_terms)
    lines = [
        f"**[{_escape(alert.title)}]({alert.url})**",
        "",
        f"{_escape(alert.source)} · {when}{language}",
        "",
        f"Profile **{alert.profile}** matched: {terms} (score {alert.score:g})",
        "",
        f"> {alert.snippet}",
        "",
        alert.url,
    ]
    return Message(title=f"[{alert.profile}] {alert.title}", body="\n".join(lines))


def _escape(text: str) -> str:
    return text.replace("[", "\\[").replace("]", "\\]")
