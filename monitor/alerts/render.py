"""Turning alerts, digests and notices into messages with Jinja2 templates a user may override.

Every message has two templates, named `<kind>.<part>.j2`:

    kind   alert | digest | notice
    part   title                      the message title: plain text in every format
           text | markdown | html     the body, one per Format (html is autoescaped)

so twelve built-in templates live in `monitor/alerts/templates/`. A file with one of these
names in the override folder (`<config>/templates/`) replaces the built-in template; the
built-ins stay reachable as `builtin/<name>` for `{% extends %}`, `{% include %}` and
`{% import %}`. Any other file name there is a configuration error (hidden files are ignored).

Templates run in Jinja's sandbox with StrictUndefined: a user's template cannot reach Python
internals, and a misspelt variable is an error, not an empty string. An override renders
within bounds on its work and output (sandbox.py): a runaway loop is an error, not a hang.
`Templates.check()` compiles every template and renders it against built-in samples, so a
broken override is reported at start-up or reload as a ConfigError naming the file and line.
Should an override still fail while a real message is rendered (a bound passed included), the
error is logged and the built-in template renders that message instead: an alert is never
lost to a template bug.

The variables and filters each template receives are listed in docs/templates.md.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import zip_longest
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
)
from jinja2.exceptions import SecurityError

from monitor.alerts.compose import (
    FORMATS,
    AlertItem,
    Digest,
    DigestGroup,
    Format,
    Message,
    Notice,
)
from monitor.alerts.feedbacklinks import FeedbackLinks
from monitor.alerts.filters import FILTERS, shown, snippets
from monitor.alerts.sandbox import BoundedEnvironment, RenderLimit, render
from monitor.errors import ConfigError
from monitor.models import Hit

log = logging.getLogger(__name__)

TEMPLATES_DIR = "templates"  # <config>/templates: the user's overrides
BUILTIN_DIR = Path(__file__).parent / "templates"
KINDS = ("alert", "digest", "notice")
NAMES = tuple(f"{kind}.{part}.j2" for kind in KINDS for part in ("title", *FORMATS))
ALSO_MAX = 10  # other outlets listed by name; the rest are counted ("and 3 more")
TITLE_MAX = 250
SNIPPETS_MAX = 4  # snippets in one alert, over all its profiles
DAY = timedelta(days=1)

# ---- the environment ----


def _environment(loader: BaseLoader) -> BoundedEnvironment:
    env = BoundedEnvironment(
        loader=loader,
        undefined=StrictUndefined,
        autoescape=lambda name: name is not None and name.endswith(".html.j2"),
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=shown,  # every printed value, overrides' too: feed text cannot act
    )
    env.filters.update(FILTERS)
    env.globals["also_max"] = ALSO_MAX
    return env


class Templates:
    """The message templates: built-ins, replaced file by file from `override_dir`."""

    def __init__(self, override_dir: Path | None = None) -> None:
        self._override_dir = override_dir
        builtin = FileSystemLoader(BUILTIN_DIR)
        loaders: list[BaseLoader] = [PrefixLoader({"builtin": builtin})]
        if override_dir is not None:
            loaders.append(FileSystemLoader(override_dir))
        self._env = _environment(ChoiceLoader([*loaders, builtin]))
        self._builtin = _environment(ChoiceLoader([PrefixLoader({"builtin": builtin}), builtin]))

    def alert(
        self, item: AlertItem, fmt: Format, tz: str = "UTC", links: FeedbackLinks | None = None
    ) -> Message:
        """One alert; with `links`, each of its hits gets its feedback links."""
        return self._message("alert", fmt, _alert_context(item, fmt, tz, links))

    def digest(self, digest: Digest, fmt: Format, links: FeedbackLinks | None = None) -> Message:
        """A digest; with `links`, each of its hits gets its feedback links."""
        return self._message("digest", fmt, _digest_context(digest, fmt, links))

    def notice(self, notice: Notice, fmt: Format) -> Message:
        return self._message("notice", fmt, {"notice": notice, "format": fmt, "ref": notice.ref})

    def check(self) -> None:
        """Raise ConfigError, naming file and line, for the first template that does not
        compile or does not render against the samples; also for unknown override names."""
        self._check_names()
        for kind, context in _samples():
            for part in ("title", *FORMATS):
                name = f"{kind}.{part}.j2"
                fmt = part if part in FORMATS else "text"
                self._check_render(name, {**context, "format": fmt})

    def _message(self, kind: str, fmt: Format, context: dict[str, Any]) -> Message:
        title = self._render(f"{kind}.title.j2", context)
        body = self._render(f"{kind}.{fmt}.j2", context)
        return Message(title=_one_line(title), body=body.strip(), format=fmt)

    def _render(self, name: str, context: dict[str, Any]) -> str:
        override = self._override(name)
        if override is None:
            return self._builtin.get_template(name).render(context)
        try:
            return self._bounded(name, context)
        except Exception as exc:  # noqa: BLE001 - a user's template bug must not lose a message
            path, line = _where(exc, override)
            log.error(
                "template %s%s failed (%s); the built-in %s was used for this message",
                path,
                f":{line}" if line else "",
                _describe(exc),
                name,
            )
        return self._builtin.get_template(name).render(context)

    def _bounded(self, name: str, context: dict[str, Any]) -> str:
        """A template that may be the user's, rendered within the sandbox's bounds (grown
        with the articles of a digest)."""
        return render(self._env.get_template(name), context, len(context.get("items", ())))

    def _override(self, name: str) -> Path | None:
        if self._override_dir is None:
            return None
        path = self._override_dir / name
        return path if path.is_file() else None

    def _check_names(self) -> None:
        if self._override_dir is None or not self._override_dir.exists():
            return
        if not self._override_dir.is_dir():
            raise ConfigError("should be a folder of template files", path=self._override_dir)
        for path in sorted(self._override_dir.iterdir()):
            if not path.name.startswith(".") and path.name not in NAMES:
                raise ConfigError(
                    "not a template name; the templates that can be overridden are "
                    + ", ".join(NAMES),
                    path=path,
                )

    def _check_render(self, name: str, context: dict[str, Any]) -> None:
        fallback = self._override(name) or BUILTIN_DIR / name
        try:
            self._bounded(name, context)
        except Exception as exc:  # whatever went wrong is the template's fault: report it
            path, line = _where(exc, fallback)
            raise ConfigError(_describe(exc), path=path, line=line) from exc


def _alert_context(
    item: AlertItem, fmt: Format, tz: str, links: FeedbackLinks | None = None
) -> dict[str, Any]:
    return {
        "item": item,
        "hit": item.hit,
        "hits": item.hits,
        "tz": tz,
        "format": fmt,
        "snippets": _merged_snippets(item.hits),
        "also": item.also[:ALSO_MAX],
        "also_more": max(0, len(item.also) - ALSO_MAX),
        "ref": item.ref,
        "feedback": links.for_hits(item.hits) if links else {},  # made before the render
    }


def _merged_snippets(hits: tuple[Hit, ...]) -> list[str]:
    """The snippets of an article's hits, taken in turns from each profile (the first of
    each before the second of any), without repeats, at most SNIPPETS_MAX."""
    rounds = zip_longest(*(snippets(hit) for hit in hits))
    merged = dict.fromkeys(s for turn in rounds for s in turn if s)
    return list(merged)[:SNIPPETS_MAX]


def _articles(groups: tuple[DigestGroup, ...]) -> tuple[AlertItem, ...]:
    """A digest's articles, each once with its hits for every profile (newest first): the
    built-in digests list them so, not once per profile."""
    found: dict[object, list[AlertItem]] = {}
    for group in groups:
        for item in group.items:
            hit = item.hit  # hits made without an article id (samples): told apart by text
            key = hit.article_id or (hit.url, hit.title)
            found.setdefault(key, []).append(item)
    merged = [
        replace(
            items[0],
            others=tuple(i.hit for i in items[1:]),
            ref="+".join([items[0].ref, *(i.ref.removeprefix("alert-") for i in items[1:])]),
        )
        for items in found.values()
    ]
    return tuple(sorted(merged, key=lambda i: i.hit.created_at, reverse=True))


def _digest_context(
    digest: Digest, fmt: Format, links: FeedbackLinks | None = None
) -> dict[str, Any]:
    items = _articles(digest.groups)
    every = tuple(hit for item in items for hit in item.hits)
    return {
        "digest": digest,
        "groups": digest.groups,
        "items": items,
        "total": digest.total,
        "tz": digest.timezone,
        "format": fmt,
        "ref": digest.ref,
        "feedback": links.for_hits(every) if links else {},
    }


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_MAX else line[: TITLE_MAX - 1].rstrip() + "…"


def _where(exc: BaseException, default: Path) -> tuple[str, int | None]:
    """The template file and line an error points at: a syntax error says so itself; for a
    runtime error, Jinja rewrites the traceback so template lines appear as frames."""
    if isinstance(exc, TemplateSyntaxError):
        return exc.filename or str(default), exc.lineno
    if isinstance(exc, RenderLimit) and exc.filename:
        return exc.filename, exc.lineno
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".j2")]
    if frames:
        return frames[-1].filename, frames[-1].lineno
    return str(default), None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TemplateSyntaxError):
        return f"template syntax error: {exc.message}"
    if isinstance(exc, UndefinedError):
        return f"undefined variable or attribute: {exc.message} (see docs/templates.md)"
    if isinstance(exc, SecurityError):
        return f"not allowed in a template: {exc.message}"
    if isinstance(exc, RenderLimit):
        return f"over a template limit: {exc.message} (see Limits in docs/templates.md)"
    if isinstance(exc, TemplateNotFound):
        return f"no template named {exc.name!r} (use builtin/<name> for a built-in one)"
    if isinstance(exc, TemplateError):
        return f"template error: {exc.message}"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    return f"{type(exc).__name__}: {exc}"


# ---- samples for check(): every branch of the built-ins (and likely of overrides) runs ----


def _samples() -> Iterator[tuple[str, dict[str, Any]]]:
    moment = datetime(2026, 11, 27, 1, 30, tzinfo=UTC)
    full = Hit(
        profile="sample_profile",
        url="https://news.example.org/2026/11/27/story?id=1&lang=en",
        title="Sample headline [update] about <regulation> & more",
        feed="Example News",
        published_at=moment,
        matched_terms=["regulation", "网信办"],
        score=2.5,
        snippet="…new **regulation** of…",
        snippets=["…new **regulation** of platforms…", "…said the **网信办** on Friday…"],
        created_at=moment,
        language="en",
        profile_version="sample",
        matched_on="entry",
        note="page not used: timeout",
        id=1,
    )
    bare = replace(
        full, published_at=None, language=None, snippets=[], snippet="", matched_on="page", id=0
    )
    links = FeedbackLinks("https://monitor.example.org", lambda: b"sample", DAY, lambda: moment)
    outlets = tuple((f"Outlet {n}", f"https://outlet{n}.example.net/a") for n in range(12))
    rich = AlertItem(hit=full, also=outlets, ref="alert-1")
    yield (
        "alert",
        _alert_context(
            replace(rich, others=(replace(full, profile="second_profile", id=2),), ref="alert-1+2"),
            "markdown",
            "UTC",
            links,
        ),
    )
    plain = AlertItem(hit=bare)
    yield "alert", _alert_context(rich, "text", "Asia/Shanghai", links)
    yield "alert", _alert_context(plain, "text", "UTC")
    groups = (DigestGroup("sample_profile", (rich, plain)), DigestGroup("other", (plain,)))
    period = (moment - timedelta(days=1), moment)
    twice = (*groups, DigestGroup("third", (replace(rich, ref="alert-3"),)))  # rich in two
    digest = Digest("daily", "schedule", *period, "UTC", twice, "d-1")
    yield "digest", _digest_context(digest, "text", links)
    debounce = replace(digest, reason="debounce", period_start=None, groups=groups[1:], ref="")
    yield "digest", _digest_context(debounce, "text")
    yield "digest", _digest_context(replace(digest, groups=()), "text")
    notice = Notice("Feed failing: Example", "Line one\nline two.\n\nSecond <p>.", "test", "n-1")
    yield "notice", {"notice": notice, "format": "text", "ref": notice.ref}
    yield "notice", {"notice": replace(notice, ref=""), "format": "text", "ref": ""}
