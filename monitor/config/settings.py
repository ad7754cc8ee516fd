"""The one typed Settings object: config/monitor.yaml overlaid by MONITOR_* environment variables.

Built once at start-up by `load_settings`, never at import. Every field here is documented in
docs/configuration.md with its range (a test keeps that page complete and true).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from monitor.config.bounds import (
    DAY,
    GIB,
    HOUR,
    MINUTE,
    YEAR,
    Duration,
    Range,
    Text,
    check_host,
    parse_duration,
)
from monitor.config.yamlfile import read_yaml, validate
from monitor.errors import ConfigError

ENV_PREFIX = "MONITOR_"
# A relative SQLite path, this one too, is taken from the folder holding the configuration
# folder, not the working directory: ./config gives ./data/monitor.db (monitor.cli.common).
DEFAULT_DATABASE_URL = "sqlite:///data/monitor.db"


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


Bound = Range | Text  # what setting_bounds finds

# Each range's reason, in a phrase, is in docs/configuration.md beside the setting.
POLL_INTERVALS = Duration(MINUTE, 30 * DAY)  # poll_interval and a feed's own interval
TIMEOUT = Duration(0.1, HOUR)
BODY_BYTES = Range(1, GIB)


class FetchSettings(_Section):
    """HTTP fetching of feeds and article pages."""

    connect_timeout: Annotated[float, TIMEOUT] = 10.0
    read_timeout: Annotated[float, TIMEOUT] = 15.0
    timeout: Annotated[float, TIMEOUT] = 30.0
    max_bytes: Annotated[int, BODY_BYTES] = 10 * 1024 * 1024
    max_redirects: Annotated[int, Range(0, 20)] = 5
    concurrency: Annotated[int, Range(1, 1024)] = 16
    per_host: Annotated[int, Range(1, 1024)] = 2
    user_agent: Annotated[str, Text(1, 512)] = (
        "governance-news-monitor/0.1 (+https://example.invalid/monitor)"
    )
    allow_networks: Networks = ()  # non-public networks a feed's links may reach
    # what one poll and one cycle may fetch: pages of a poll's newest new entries (the rest
    # are matched on their own text) and pages per host per cycle (the rest wait for a later
    # poll); 0: no limit
    max_pages_per_poll: Annotated[int, Range(0, 100_000)] = 100
    max_pages_per_host: Annotated[int, Range(0, 1_000_000)] = 500


class ExtractSettings(_Section):
    """Article text extraction (trafilatura in worker processes)."""

    workers: Annotated[int, Range(0, 64)] = 0  # 0: one per CPU core
    timeout: Annotated[float, Duration(0.1, 10 * MINUTE)] = 30.0
    max_bytes: Annotated[int, BODY_BYTES] = 3 * 1024 * 1024


class AlertSettings(_Section):
    """Alert creation and delivery."""

    max_age: Annotated[float, Duration(MINUTE, 100 * YEAR)] = 7 * 86400.0
    max_attempts: Annotated[int, Range(1, 100)] = 5
    retry_delay: Annotated[float, Duration(1, DAY)] = 60.0
    # ceiling of the delivery backoff
    max_retry_delay: Annotated[float, Duration(1, 7 * DAY)] = 3600.0
    debounce_count: Annotated[int, Range(0, 10_000)] = 20
    debounce_window: Annotated[float, Duration(MINUTE, 7 * DAY)] = 3600.0
    channel_failures: Annotated[int, Range(1, 100)] = 3
    spike_factor: Annotated[float, Range(1, 1000, above=True)] = 4.0
    spike_min_hits: Annotated[int, Range(1, 1_000_000)] = 10
    spike_window: Annotated[float, Duration(MINUTE, 7 * DAY)] = 3600.0
    spike_baseline: Annotated[float, Duration(MINUTE, YEAR)] = 7 * 86400.0


class HealthSettings(_Section):
    """Feed health: retry backoff, failure and silence notices."""

    failure_threshold: Annotated[int, Range(1, 1000)] = 5
    reminder: Annotated[float, Duration(MINUTE, 30 * DAY)] = 86400.0
    max_backoff: Annotated[float, Duration(MINUTE, 30 * DAY)] = 86400.0
    silent_factor: Annotated[float, Range(1, 1000, above=True)] = 5.0
    silent_min: Annotated[float, Duration(MINUTE, YEAR)] = 2 * 86400.0


class RetentionSettings(_Section):
    """What is kept and for how long: hits, their snippets and alerts are kept forever."""

    article_text: Annotated[float, Duration(0, 100 * YEAR)] = 365 * 86400.0  # 0: forever
    # how often the running service prunes
    interval: Annotated[float, Duration(MINUTE, 30 * DAY)] = 86400.0


RECHECK_AFTER = Duration(MINUTE, 5 * YEAR)  # each re-check's delay after the original fetch
RECHECKS = 20  # delays at most


def parse_recheck(value: Any) -> tuple[float, ...]:
    """`evidence.recheck`: a list of durations, one duration, or a comma-separated string of
    them (an environment variable), each within RECHECK_AFTER, in increasing order."""
    if isinstance(value, str):
        items: list[Any] = [item.strip() for item in value.split(",") if item.strip()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        items = [value]
    if len(items) > RECHECKS:
        raise ValueError(f"expected at most {RECHECKS} delays, got {len(items)}")
    delays = tuple(float(RECHECK_AFTER.check(float(parse_duration(item)))) for item in items)
    if list(delays) != sorted(set(delays)):
        raise ValueError("expected delays in increasing order, each once, such as [1h, 1d, 7d]")
    return delays


class EvidenceSettings(_Section):
    """Where hit articles' pages are kept as fetched, and when they are looked at again
    (docs/evidence.md)."""

    # a relative path is taken from the folder holding the configuration folder
    dir: Annotated[str, Text(1, 4096)] = "data/evidence"
    # each delay after the original fetch; empty: no re-checks
    recheck: Annotated[tuple[float, ...], BeforeValidator(parse_recheck)] = (
        3600.0,
        86400.0,
        7 * 86400.0,
        30 * 86400.0,
    )
    # re-checks one cycle makes at most (the rest wait for the next cycle)
    per_cycle: Annotated[int, Range(1, 100_000)] = 200
    # an unanswered re-check is tried again after this long ...
    retry: Annotated[float, Duration(MINUTE, 7 * DAY)] = 3600.0
    # ... and reported as unreachable after this many in a row
    unreachable_after: Annotated[int, Range(1, 100)] = 3
    # an article's evidence is deleted this long after its latest version; 0: kept for good
    retention: Annotated[float, Duration(0, 100 * YEAR)] = 0.0


def evidence_folder(settings: Settings, config_dir: Path) -> Path:
    """`evidence.dir` as a path: a relative one is taken from the folder holding the
    configuration folder (as a relative SQLite path is), wherever the command runs."""
    folder = Path(settings.evidence.dir).expanduser()
    if folder.is_absolute():
        return folder
    return Path(os.path.abspath(config_dir)).parent / folder  # noqa: PTH100  (links kept)


def check_public_url(value: str) -> str:
    """An http(s) address with a host and no query or fragment (a path prefix is kept)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an address such as https://monitor.example.org, got {value!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"expected an address without ?query or #fragment, got {value!r}")
    return value.rstrip("/")


class WebSettings(_Section):
    """The web application (`monitor run` and `monitor web`): who may read it when it listens
    beyond loopback, and where the feedback links in alerts point."""

    # MONITOR_WEB_TOKEN; sent in a header and a cookie, hence visible ASCII only
    token: Annotated[str, Text(16, 1024, visible_ascii=True)] | None = Field(
        default=None, repr=False
    )
    # the address people reach it at (the links in alerts); default: server.host:server.port
    public_url: (
        Annotated[str, Text(8, 1024, visible_ascii=True), AfterValidator(check_public_url)] | None
    ) = None
    # how long a feedback link in an alert works
    feedback_link_ttl: Annotated[float, Duration(HOUR, 365 * DAY)] = 30 * DAY


class ServerSettings(_Section):
    """The process's HTTP server while `monitor run` runs: the web application, /healthz and
    /metrics."""

    enabled: bool = True
    host: Annotated[str, AfterValidator(check_host)] = "127.0.0.1"
    port: Annotated[int, Range(0, 65535)] = 9464  # 0: any free port (tests)
    # /healthz fails when the last good cycle is older
    stale_after: Annotated[float, Duration(1, 7 * DAY)] = 3600.0


class Settings(_Section):
    """Everything the service reads from monitor.yaml and MONITOR_* variables."""

    database_url: Annotated[str, Text(1, 4096)] = DEFAULT_DATABASE_URL
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    poll_interval: Annotated[float, POLL_INTERVALS] = 900.0
    tick: Annotated[float, Duration(0.1, HOUR)] = 30.0
    fetch: FetchSettings = FetchSettings()
    extract: ExtractSettings = ExtractSettings()
    alerts: AlertSettings = AlertSettings()
    health: HealthSettings = HealthSettings()
    retention: RetentionSettings = RetentionSettings()
    evidence: EvidenceSettings = EvidenceSettings()
    server: ServerSettings = ServerSettings()
    web: WebSettings = WebSettings()
    # in-flight work gets this long after SIGTERM
    shutdown_timeout: Annotated[float, Duration(0.1, HOUR)] = 30.0
    # polls still running then are stopped, their feeds released
    cycle_deadline: Annotated[float, Duration(0.1, 7 * DAY)] = 600.0
    # a claimed feed stays reserved this long for its instance
    lease: Annotated[float, Duration(0.1, DAY)] = 900.0


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


def setting_bounds(model: type[BaseModel] = Settings, prefix: str = "") -> dict[str, Bound]:
    """Every leaf setting with a range or length (`dotted.name` → its Range, Duration or Text),
    which docs/configuration.md lists beside it."""
    bounds: dict[str, Bound] = {}
    for name, info in model.model_fields.items():
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            bounds.update(setting_bounds(sub, f"{prefix}{name}."))
            continue
        nested = [get_args(arg)[1:] for arg in get_args(sub) if get_origin(arg) is Annotated]
        for item in [*info.metadata, *(m for found in nested for m in found)]:
            if isinstance(item, Range | Text):
                bounds[prefix + name] = item
    return bounds


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
