"""Alert channels and digest schedules from config/alerts.yaml; ${VAR} references are taken
from the environment (in the file and in any Apprise configuration file it names)."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit

import apprise
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.alerts.schedules import DEBOUNCE, Schedule, ScheduleSpec, build
from monitor.config.bounds import MINUTE, Duration, hidden_character
from monitor.config.secrets import url_secrets
from monitor.config.yamlfile import line_of, read_yaml, validate
from monitor.errors import ConfigError
from monitor.models import ChannelSpec, QuietHours

ALERTS_FILE = "alerts.yaml"
LOG_CHANNEL = "log"  # used when no channel is configured: alerts are written to the log
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_URL_IN_TEXT = re.compile(r"[a-z][a-z0-9+.-]*://[^\s'\"]+", re.IGNORECASE)
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
THROTTLE = Duration(0, 10 * MINUTE)


class _Quiet(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: time = Field(alias="from")
    end: time = Field(alias="to")
    timezone: str = "UTC"

    @model_validator(mode="after")
    def _check(self) -> _Quiet:
        if self.start == self.end:
            raise ValueError("quiet hours start and end at the same time")
        ScheduleSpec(timezone=self.timezone)  # the same timezone check as the schedules
        return self


class _Channel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=1)
    config: str | None = Field(default=None, min_length=1)
    name: str | None = None
    tags: list[str] = []
    format: Literal["text", "markdown", "html"] | None = None
    digest: str | None = None
    quiet_hours: _Quiet | None = None
    # seconds Apprise waits between two messages, inside a delivery pass: more stalls it
    throttle: Annotated[float, THROTTLE] | None = None
    group: Literal["article", "profile"] = "article"

    @model_validator(mode="after")
    def _one_target(self) -> _Channel:
        if (self.url is None) == (self.config is None):
            raise ValueError("give either `url` (an Apprise URL) or `config` (an Apprise file)")
        return self

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        if value is not None and (not _KEY.match(value) or value == LOG_CHANNEL):
            raise ValueError("use letters, digits, '.', '_' or '-' (and not 'log')")
        return value

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and "://" not in value:
            raise ValueError("expected an Apprise URL such as mailto://… or json://…")
        return value


class _AlertsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: list[_Channel] = []
    digests: dict[str, ScheduleSpec] = {}

    @field_validator("digests")
    @classmethod
    def _check_names(cls, value: dict[str, ScheduleSpec]) -> dict[str, ScheduleSpec]:
        for name in value:
            if not _KEY.match(name) or name == DEBOUNCE:
                raise ValueError(f"digest name {name!r}: use letters, digits, '.', '_' or '-'")
        return value


@dataclass(frozen=True, slots=True)
class AlertConfig:
    """What alerts.yaml configures: the channels and the digest schedules by name."""

    channels: list[ChannelSpec]
    schedules: dict[str, Schedule]
    secrets: frozenset[str] = frozenset()  # ${VAR} values and URL passwords, to mask in logs


def channel_key(url_template: str, name: str | None) -> str:
    """A stable name for a channel: its `name`, else scheme + a hash of the URL as written
    (with ${VAR} unexpanded, so the key never depends on or reveals a secret)."""
    if name:
        return name
    scheme = url_template.split("://", 1)[0].lower()
    return f"{scheme}-{hashlib.sha256(url_template.encode()).hexdigest()[:8]}"


def load_alerts(config_dir: Path, env: Mapping[str, str] | None = None) -> AlertConfig:
    """Channels and schedules of alerts.yaml (no channel, the built-in schedule if absent)."""
    env = os.environ if env is None else env
    path = config_dir / ALERTS_FILE
    if not path.exists():
        return AlertConfig([], build({}))
    data = read_yaml(path)
    parsed = validate(_AlertsFile, data, path)
    schedules = build(parsed.digests)
    channels: list[ChannelSpec] = []
    secrets: set[str] = set()
    for index, channel in enumerate(parsed.channels):
        line = line_of(data, ["channels", index])
        target = channel.url or channel.config or ""
        key = channel_key(target, channel.name)
        if any(c.key == key for c in channels):
            raise ConfigError(
                f"channels[{index}]: channel {key!r} is listed twice", path=path, line=line
            )
        if channel.digest is not None and channel.digest not in schedules:
            raise ConfigError(
                f"channels[{index}].digest: no digest schedule named {channel.digest!r} "
                f"(defined: {', '.join(sorted(schedules))})",
                path=path,
                line=line_of(data, ["channels", index, "digest"]),
            )
        where = f"channels[{index}].{'url' if channel.url else 'config'}"
        line_url = line_of(data, ["channels", index, "url"])
        url = _expand(channel.url, env, where, path, line_url, secrets)
        config = None
        if channel.config is not None:
            config = _apprise_file(config_dir, channel.config, env, where, path, line, secrets)
        secrets.update(_url_secrets(url))
        if url and not _accepted(url):
            raise ConfigError(
                f"{where}: Apprise does not accept this URL (an unknown scheme, or parameters "
                "it cannot read); see https://github.com/caronc/apprise/wiki for its forms",
                path=path,
                line=line_url,
            )
        problem = _address_problem(url) if url else None
        if problem is not None:
            raise ConfigError(f"{where}: {problem}", path=path, line=line_url)
        quiet = channel.quiet_hours
        channels.append(
            ChannelSpec(
                key,
                url,
                frozenset(channel.tags),
                config=config,
                format=channel.format,
                digest=channel.digest,
                quiet=QuietHours(quiet.start, quiet.end, quiet.timezone) if quiet else None,
                throttle=channel.throttle,
                group=channel.group,
            )
        )
    return AlertConfig(channels, schedules, frozenset(secrets))


def load_channels(config_dir: Path, env: Mapping[str, str] | None = None) -> list[ChannelSpec]:
    """The channels of alerts.yaml (none if the file is absent)."""
    return load_alerts(config_dir, env).channels


def _expand(
    text: str | None,
    env: Mapping[str, str],
    where: str,
    path: Path,
    line: int | None,
    secrets: set[str],
) -> str:
    """`text` with each ${VAR} replaced by the environment variable (ConfigError if unset);
    the values used are added to `secrets`."""

    def value(m: re.Match[str]) -> str:
        if m.group(1) not in env:
            raise ConfigError(
                f"{where}: environment variable {m.group(1)} is not set", path=path, line=line
            )
        secrets.add(env[m.group(1)])
        return env[m.group(1)]

    return _VAR.sub(value, text or "")


def _apprise_file(
    config_dir: Path,
    name: str,
    env: Mapping[str, str],
    where: str,
    path: Path,
    line: int | None,
    secrets: set[str],
) -> str:
    """The text of an Apprise configuration file (relative to config/), ${VAR} expanded."""
    file = (config_dir / name).resolve()
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{where}: cannot read the Apprise configuration file {file} "
            f"({exc.__class__.__name__})",
            path=path,
            line=line,
        ) from None
    text = _expand(text, env, f"{where} ({name})", path, line, secrets)
    for found in _URL_IN_TEXT.findall(text):
        secrets.update(_url_secrets(found))
    with apprise.LogCapture(level=logging.ERROR) as told:  # type: ignore[no-untyped-call]
        found_any = bool(apprise_targets(text))
    refused = told.getvalue().count(" - ERROR - ")  # one per entry it dropped (URLs: secrets)
    if refused:
        raise ConfigError(
            f"{where}: Apprise cannot read {refused} of the entries in {name} (an unknown "
            "scheme, or parameters it cannot read) and would drop them without a word; see "
            "https://github.com/caronc/apprise/wiki/config_yaml",
            path=path,
            line=line,
        )
    if not found_any:
        raise ConfigError(
            f"{where}: Apprise found no notification URL in {name} "
            "(see https://github.com/caronc/apprise/wiki/config_yaml)",
            path=path,
            line=line,
        )
    return text


def _url_secrets(url: str) -> set[str]:
    """What of a channel URL the log must never show: what any configured URL hides (its
    password, credential parameters: config.secrets.url_secrets), and its user name, path
    segments and query values that look like tokens (discord://id/TOKEN, tgram://BOT/chat,
    json://host/hook?key=…): Apprise's own warnings print the URL as written."""
    found = set(url_secrets(url))
    try:
        parts = urlsplit(url)
        user = parts.username
    except ValueError:
        return found
    values = [piece.partition("=")[2] for piece in parts.query.split("&")]
    host = parts.hostname or ""
    token_host = [] if "." in host or ":" in host else [host]  # discord://ID/…, tgram://BOT/…
    for piece in [user or "", *token_host, *parts.path.split("/"), *values]:
        if _looks_like_token(unquote(piece)):
            found.add(unquote(piece))
    return found


def _looks_like_token(piece: str) -> bool:
    """Long enough, and with a digit or very long: an id or a key, not a word such as "hooks"."""
    return len(piece) >= TOKEN_CHARS and (any(c.isdigit() for c in piece) or len(piece) >= 20)


def _accepted(url: str) -> bool:
    """Whether Apprise can read `url` (its warnings, which print the URL, kept out of the log)."""
    with apprise.LogCapture(level=logging.CRITICAL):  # type: ignore[no-untyped-call]
        return bool(apprise.Apprise().add(url))


def _address_problem(url: str) -> str | None:
    """What Apprise accepts but no delivery could use: a port outside 1-65535, or a host with
    characters that hide or reorder text (what is wrong is said, never the URL: secrets)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "the port is not a number from 1 to 65535"
    if port == 0:
        return "the port is not a number from 1 to 65535"
    hidden = hidden_character(unquote(parts.netloc))
    if hidden is not None:
        return f"character {hidden} is not accepted in a host"
    return None


TOKEN_CHARS = 8  # a URL piece this long, with a digit, may be a token: masked in every log line


def apprise_targets(config_text: str) -> apprise.Apprise:
    """An Apprise object holding the targets of an Apprise configuration (YAML or text)."""
    config = apprise.AppriseConfig()
    config.add_config(config_text)
    app = apprise.Apprise()
    app.add(config)
    return app


def route(channels: list[ChannelSpec], profile_tags: tuple[str, ...]) -> list[str]:
    """Channel keys a profile's alerts go to: channels sharing a tag and channels without tags.
    With no channel taking the profile, its alerts go to the log so none is silently dropped."""
    keys = [c.key for c in channels if c.takes(profile_tags)]
    return keys or [LOG_CHANNEL]
