"""The one typed Settings object: config/monitor.yaml overlaid by MONITOR_* environment variables.

Built once at start-up by `load_settings`, never at import. Every field here is documented in
docs/configuration.md (a test keeps that page complete).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from monitor.config.yamlfile import read_yaml, validate
from monitor.errors import ConfigError

ENV_PREFIX = "MONITOR_"
# A relative SQLite path, this one too, is taken from the folder holding the configuration
# folder, not the working directory: ./config gives ./data/monitor.db (monitor.cli.common).
DEFAULT_DATABASE_URL = "sqlite:///data/monitor.db"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> Any:
    """Accept seconds as a number or a string like `90`, `15m`, `2h`, `7d`, `1w`."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 900, 15m, 2h or 7d")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            return float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    raise ValueError(f"expected a duration such as 900, 15m, 2h or 7d, got {value!r}")


Seconds = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_networks(value: Any) -> Any:
    """Accept CIDRs (10.0.0.0/8, fd00::/8; a bare address is just that address) as a list or
    as one comma-separated string, which is how an environment variable carries a list."""
    if isinstance(value, str):
        value = [item.strip() for item in value.split(",") if item.strip()]
    if not isinstance(value, list | tuple):
        raise ValueError("expected a list of networks such as 10.0.0.0/8")
    networks = []
    for item in value:
        try:
            networks.append(ip_network(item))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{item!r} is not a network such as 10.0.0.0/8: {exc}") from None
    return tuple(networks)


Networks = Annotated[tuple[IPv4Network | IPv6Network, ...], BeforeValidator(parse_networks)]


class FetchSettings(_Section):
    """HTTP fetching of feeds and article pages."""

    connect_timeout: Seconds = 10.0
    read_timeout: Seconds = 15.0
    timeout: Seconds = 30.0
    max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_redirects: int = Field(default=5, ge=0)
    concurrency: int = Field(default=16, ge=1)
    per_host: int = Field(default=2, ge=1)
    user_agent: str = "governance-news-monitor/0.1 (+https://example.invalid/monitor)"
    allow_networks: Networks = ()  # non-public networks a feed's links may reach
    # what one poll and one cycle may fetch: pages of a poll's newest new entries (the rest
    # are matched on their own text) and pages per host per cycle (the rest wait for a later
    # poll); 0: no limit
    max_pages_per_poll: int = Field(default=100, ge=0)
    max_pages_per_host: int = Field(default=500, ge=0)


class ExtractSettings(_Section):
    """Article text extraction (trafilatura in worker processes)."""

    workers: int = Field(default=0, ge=0)  # 0: one per CPU core
    timeout: Seconds = 30.0
    max_bytes: int = Field(default=3 * 1024 * 1024, gt=0)


class AlertSettings(_Section):
    """Alert creation and delivery."""

    max_age: Seconds = 7 * 86400.0
    max_attempts: int = Field(default=5, ge=1)
    retry_delay: Seconds = 60.0
    max_retry_delay: Seconds = 3600.0  # ceiling of the delivery backoff
    debounce_count: int = Field(default=20, ge=0)
    debounce_window: Seconds = 3600.0
    channel_failures: int = Field(default=3, ge=1)
    spike_factor: float = Field(default=4.0, gt=1)
    spike_min_hits: int = Field(default=10, ge=1)
    spike_window: Seconds = 3600.0
    spike_baseline: Seconds = 7 * 86400.0


class HealthSettings(_Section):
    """Feed health: retry backoff, failure and silence notices."""

    failure_threshold: int = Field(default=5, ge=1)
    reminder: Seconds = 86400.0
    max_backoff: Seconds = 86400.0
    silent_factor: float = Field(default=5.0, gt=1)
    silent_min: Seconds = 2 * 86400.0


class RetentionSettings(_Section):
    """What is kept and for how long: hits, their snippets and alerts are kept forever."""

    article_text: Annotated[float, BeforeValidator(parse_duration), Field(ge=0)] = 365 * 86400.0
    interval: Seconds = 86400.0  # how often the running service prunes


class WebSettings(_Section):
    """The web application (`monitor run` and `monitor web`): who may read it when it listens
    beyond loopback."""

    token: str | None = Field(default=None, min_length=16, repr=False)  # MONITOR_WEB_TOKEN


class ServerSettings(_Section):
    """The process's HTTP server while `monitor run` runs: the web application, /healthz and
    /metrics."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=9464, ge=0, le=65535)  # 0: any free port (tests)
    stale_after: Seconds = 3600.0  # /healthz fails when the last good cycle is older


class Settings(_Section):
    """Everything the service reads from monitor.yaml and MONITOR_* variables."""

    database_url: str = DEFAULT_DATABASE_URL
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    poll_interval: Annotated[float, BeforeValidator(parse_duration), Field(ge=60)] = 900.0
    tick: Seconds = 30.0
    fetch: FetchSettings = FetchSettings()
    extract: ExtractSettings = ExtractSettings()
    alerts: AlertSettings = AlertSettings()
    health: HealthSettings = HealthSettings()
    retention: RetentionSettings = RetentionSettings()
    server: ServerSettings = ServerSettings()
    web: WebSettings = WebSettings()
    shutdown_timeout: Seconds = 30.0  # in-flight work gets this long after SIGTERM
    cycle_deadline: Seconds = 600.0  # polls still running then are stopped, their feeds released
    lease: Seconds = 900.0  # a claimed feed stays reserved this long for its instance


def setting_names(model: type[BaseModel] = Settings, prefix: str = "") -> dict[str, str]:
    """Every leaf setting as `dotted.name` → its MONITOR_ environment variable."""
    names: dict[str, str] = {}
    for name, info in model.model_fields.items():
        dotted = f"{prefix}{name}"
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            names.update(setting_names(sub, dotted + "."))
        else:
            names[dotted] = ENV_PREFIX + dotted.replace(".", "_").upper()
    return names


def _env_overlay(data: dict[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    """Put MONITOR_* values into `data`; return variable → dotted name of those used."""
    used: dict[str, str] = {}
    for dotted, var in setting_names().items():
        if var not in env:
            continue
        node = data
        *parents, leaf = dotted.split(".")
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = dict(child) if isinstance(child, Mapping) else {}
                node[part] = child
            node = child
        node[leaf] = env[var]
        used[var] = dotted
    return used


def load_settings(config_dir: Path, env: Mapping[str, str] | None = None) -> Settings:
    """Read config_dir/monitor.yaml (optional) and overlay MONITOR_* variables from `env`."""
    env = os.environ if env is None else env
    path = config_dir / "monitor.yaml"
    raw = read_yaml(path) if path.exists() else None
    data: dict[str, Any] = {} if raw is None else raw
    if not isinstance(data, Mapping):
        raise ConfigError("expected a mapping of settings", path=path, line=1)
    used = _env_overlay(data, env)
    try:
        return validate(Settings, data, path)
    except ConfigError as exc:
        for var, dotted in used.items():
            if dotted in str(exc):
                raise ConfigError(f"environment variable {var}: {exc.detail}") from None
        raise
