"""Alert channels from config/alerts.yaml, ${VAR} references taken from the environment."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor.errors import ConfigError
from monitor.models import ChannelSpec
from monitor.yamlconfig import line_of, read_yaml, validate

ALERTS_FILE = "alerts.yaml"
LOG_CHANNEL = "log"  # used when no channel is configured: alerts are written to the log
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class _Channel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1)
    name: str | None = None
    tags: list[str] = []

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        if value is not None and (not _KEY.match(value) or value == LOG_CHANNEL):
            raise ValueError("use letters, digits, '.', '_' or '-' (and not 'log')")
        return value

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("expected an Apprise URL such as mailto://… or json://…")
        return value


class _AlertsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: list[_Channel] = []


def channel_key(url_template: str, name: str | None) -> str:
    """A stable name for a channel: its `name`, else scheme + a hash of the URL as written
    (with ${VAR} unexpanded, so the key never depends on or reveals a secret)."""
    if name:
        return name
    scheme = url_template.split("://", 1)[0].lower()
    return f"{scheme}-{hashlib.sha256(url_template.encode()).hexdigest()[:8]}"


def load_channels(config_dir: Path, env: Mapping[str, str] | None = None) -> list[ChannelSpec]:
    """The channels of alerts.yaml (none if the file is absent)."""
    env = os.environ if env is None else env
    path = config_dir / ALERTS_FILE
    if not path.exists():
        return []
    data = read_yaml(path)
    parsed = validate(_AlertsFile, data, path)
    channels: list[ChannelSpec] = []
    for index, channel in enumerate(parsed.channels):
        line = line_of(data, ["channels", index, "url"])

        def expand(m: re.Match[str], line: int | None = line, index: int = index) -> str:
            if m.group(1) not in env:
                raise ConfigError(
                    f"channels[{index}].url: environment variable {m.group(1)} is not set",
                    path=path,
                    line=line,
                )
            return env[m.group(1)]

        key = channel_key(channel.url, channel.name)
        if any(c.key == key for c in channels):
            raise ConfigError(
                f"channels[{index}]: channel {key!r} is listed twice", path=path, line=line
            )
        channels.append(ChannelSpec(key, _VAR.sub(expand, channel.url), frozenset(channel.tags)))
    return channels


def route(channels: list[ChannelSpec], profile_tags: tuple[str, ...]) -> list[str]:
    """Channel keys a profile's alerts go to: channels sharing a tag and channels without tags.
    With no channel taking the profile, its alerts go to the log so none is silently dropped."""
    keys = [c.key for c in channels if c.takes(profile_tags)]
    return keys or [LOG_CHANNEL]
