"""A profile as the rest of the monitor sees it, and the article fields it is matched against."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from monitor.profiles.learned import LearnedModel
from monitor.profiles.nodes import Node

AlertMode = Literal["instant", "digest"]


@dataclass(frozen=True, slots=True)
class Focus:
    """Where a match's evidence must be (focus.py): the first `lead` sentences, or
    `mentions` places of the body (0: the lead or the headline only)."""

    lead: int
    mentions: int = 0


@dataclass(frozen=True, slots=True)
class Learned:
    """The learned check a profile consults (learned.py): drop a match the model gives less
    than `veto`; make a match of a text with some of the profile's terms that the model gives
    at least `rescue` (None: never)."""

    model: LearnedModel = field(repr=False, compare=False)
    veto: float = 0.0
    rescue: float | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """A named query with its alert settings, from config/profiles/NAME.yaml."""

    name: str
    version: str  # a hash of the file's text: hits record which wording produced them
    query: Node
    query_text: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    min_score: float = 1.0
    focus: Focus | None = None  # where the evidence must be (focus.py); None: anywhere
    learned: Learned | None = None  # the learned check (learned.py); None: the query alone
    enabled: bool = True
    notify_changes: bool = True  # notices when a hit article is edited or removed (evidence)
    languages: tuple[str, ...] = ()  # language code prefixes; empty: any language
    sources: tuple[str, ...] = ()  # feed or site names (substrings); empty: any source
    alert: AlertMode = "instant"
    digest: str = "daily"  # the digest schedule (alerts.yaml) when alert == "digest"
    path: Path | None = None  # the file it came from, for error messages
    warnings: tuple[str, ...] = ()  # `file:line:col: …` lines about the query (query_warnings)


@dataclass(frozen=True, slots=True)
class Doc:
    """What a profile is matched against: headline and body text plus metadata."""

    title: str
    text: str
    url: str = ""
    source: str = ""  # the feed's name or title and the site's name
    language: str | None = None
