"""The configuration files a service reloads while it runs (feeds.yaml, profiles/,
concepts.yaml, learned.json, alerts.yaml, templates/): read and checked together, and a cheap
signature that tells when any of them changed on disk. monitor.yaml is monitor.config.settings'."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from monitor.alerts.channels import ALERTS_FILE, AlertConfig, load_alerts
from monitor.alerts.render import TEMPLATES_DIR, Templates
from monitor.config.feedlist import FEEDS_FILE, load_feeds
from monitor.errors import ConfigError
from monitor.models import FeedSpec
from monitor.profiles.concepts import CONCEPTS_FILE
from monitor.profiles.files import PROFILES_DIR, load_profiles
from monitor.profiles.learned import LEARNED_FILE
from monitor.profiles.profile import Profile


@dataclass(frozen=True, slots=True)
class Loaded:
    """The configuration files, read and validated."""

    feeds: list[FeedSpec]
    profiles: list[Profile]
    alerts: AlertConfig
    templates: Templates


def load_config(config_dir: Path) -> Loaded:
    """Read feeds.yaml, profiles/, concepts.yaml, alerts.yaml and templates/; ConfigError
    names the file and line. (monitor.yaml settings are read once at start-up.)"""
    profiles = load_profiles(config_dir)
    alerts = load_alerts(config_dir)
    for profile in profiles:
        if profile.alert == "digest" and profile.digest not in alerts.schedules:
            raise ConfigError(
                f"digest: no schedule named {profile.digest!r} in alerts.yaml "
                f"(defined: {', '.join(sorted(alerts.schedules))})",
                path=profile.path,
            )
    templates = Templates(config_dir / TEMPLATES_DIR)
    templates.check()
    return Loaded(load_feeds(config_dir), profiles, alerts, templates)


def config_signature(config_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """What the reloadable files look like on disk (name, size, mtime): cheap to compare."""
    paths = [config_dir / name for name in (FEEDS_FILE, ALERTS_FILE, CONCEPTS_FILE, LEARNED_FILE)]
    for folder in (config_dir / PROFILES_DIR, config_dir / TEMPLATES_DIR):
        if folder.is_dir():
            paths += sorted(folder.iterdir())
    out = []
    for path in paths:
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        out.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(out)
