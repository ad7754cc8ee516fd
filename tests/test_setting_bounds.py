"""Every setting has a range: a careless value (far too large, infinite, NaN, a hidden character)
is a ConfigError naming the file, the line and the key, or a usage error (exit 2) on the
command line; never a traceback, a hang or an overflow later."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.alerts.channels import load_alerts
from monitor.cli.common import since
from monitor.config.bounds import LOOKBACK, Duration, Range, Text
from monitor.config.feedlist import load_feeds
from monitor.config.settings import (
    POLL_INTERVALS,
    Settings,
    load_settings,
    setting_bounds,
    setting_names,
)
from monitor.errors import ConfigError
from tests.test_cli import monitor

FAST = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
BOUNDS = setting_bounds()
DURATIONS = sorted(name for name, bound in BOUNDS.items() if isinstance(bound, Duration))
NUMBERS = sorted(name for name, bound in BOUNDS.items() if type(bound) is Range)


def nested(dotted: str, value: str) -> str:
    """monitor.yaml text setting `dotted` to `value` (YAML as written), on its last line."""
    *parents, leaf = dotted.split(".")
    lines = [f"{'  ' * depth}{part}:" for depth, part in enumerate(parents)]
    return "# settings\n" + "\n".join([*lines, f"{'  ' * len(parents)}{leaf}: {value}"]) + "\n"


def refused(folder: Path, text: str, filename: str = "monitor.yaml") -> ConfigError:
    (folder / filename).write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        if filename == "monitor.yaml":
            load_settings(folder, env={})
        elif filename == "feeds.yaml":
            load_feeds(folder)
        else:
            load_alerts(folder, env={})
    return caught.value


def value_at(loaded: Settings, dotted: str) -> Any:
    found: Any = loaded
    for part in dotted.split("."):
        found = getattr(found, part)
    return found


# The values operators wrote that were accepted and failed later (issue 18).
@pytest.mark.parametrize(
    ("dotted", "value", "words"),
    [
        ("fetch.concurrency", "1000000", "from 1 to 1024, got 1000000"),
        ("fetch.concurrency", "100000000000000000000", "got 100000000000000000000"),
        ("extract.workers", "100000", "from 0 to 64, got 100000"),
        ("tick", "1e20", "from 0.1s to 1h, got 1e+20 s"),
        ("tick", ".inf", "got inf s"),
        ("lease", "1e300", "from 0.1s to 1d, got 1e+300 s"),
        ("lease", ".inf", "got inf s"),
        ("retention.interval", "1e20", "from 1m to 30d"),
        ("retention.interval", ".inf", "got inf s"),
        ("poll_interval", "1e300", "from 1m to 30d"),
        ("poll_interval", ".inf", "got inf s"),
        ("alerts.max_age", "1e20", "from 1m to 36500d"),
        ("alerts.max_age", ".inf", "got inf s"),
        ("alerts.debounce_window", "1e300", "from 1m to 1w"),
        ("alerts.spike_window", ".inf", "from 1m to 1w"),
        ("alerts.spike_baseline", "1e20", "from 1m to 365d"),
        ("tick", ".nan", "got nan s"),
        ("fetch.max_bytes", "100000000000000000000000", "from 1 to 1073741824"),
        ("server.port", "99999", "from 0 to 65535"),
        ("server.host", '"127.0.0.1\\u202e"', "U+202E"),
        ("server.host", '"0.0.0.0\\u0007"', "U+0007"),
        ("server.host", '"loc\\u200bhost"', "U+200B"),
        ("fetch.user_agent", '"monitor\\r\\nX-Injected: 1"', "U+000D"),
        ("web.token", '"0123456789abcdef\\u202e"', "U+202E"),
        ("database_url", '"sqlite:///data/m\\u202eonitor.db"', "U+202E"),
    ],
)
def test_a_careless_setting_names_file_line_and_key(
    tmp_path: Path, dotted: str, value: str, words: str
) -> None:
    error = refused(tmp_path, nested(dotted, value))
    line = nested(dotted, value).count("\n")
    assert str(error).startswith(f"{tmp_path / 'monitor.yaml'}:{line}: {dotted}: "), error
    assert words in str(error)


@pytest.mark.parametrize("value", [".inf", "1e300", "-.inf", ".nan", "99999999999999999999w"])
@pytest.mark.parametrize("dotted", DURATIONS)
def test_every_duration_refuses_what_no_clock_holds(
    tmp_path: Path, dotted: str, value: str
) -> None:
    error = refused(tmp_path, nested(dotted, value))
    assert error.line == nested(dotted, value).count("\n") and f" {dotted}: " in str(error)
    assert f"expected a duration {BOUNDS[dotted]}" in str(error)


@pytest.mark.parametrize("value", ["100000000000000000000", "1e300", ".inf", ".nan", "-1"])
@pytest.mark.parametrize("dotted", NUMBERS)
def test_every_number_refuses_what_is_out_of_range(tmp_path: Path, dotted: str, value: str) -> None:
    error = refused(tmp_path, nested(dotted, value))
    assert error.line == nested(dotted, value).count("\n") and f" {dotted}: " in str(error)


@pytest.mark.parametrize("dotted", sorted(n for n, b in BOUNDS.items() if isinstance(b, Range)))
def test_both_ends_of_every_range_load(tmp_path: Path, dotted: str) -> None:
    bound = BOUNDS[dotted]
    assert isinstance(bound, Range)
    ends = [bound.high] if bound.above else [bound.low, bound.high]
    for end in ends:
        (tmp_path / "monitor.yaml").write_text(nested(dotted, repr(end)), encoding="utf-8")
        assert value_at(load_settings(tmp_path, env={}), dotted) == end


def test_a_careless_variable_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"MONITOR_FETCH_CONCURRENCY: fetch.concurrency: exp"):
        load_settings(tmp_path, env={"MONITOR_FETCH_CONCURRENCY": "1000000"})
    with pytest.raises(ConfigError, match=r"MONITOR_LEASE: lease: expected a duration"):
        load_settings(tmp_path, env={"MONITOR_LEASE": "99999999999999999999999d"})


@pytest.mark.parametrize("value", [".inf", "1e300", "1e20", ".nan", "99999999999d"])
def test_a_feeds_interval_is_bounded(tmp_path: Path, value: str) -> None:
    text = "feeds:\n  - url: https://a.example/rss\n  - url: https://b.example/rss\n"
    text += f"    interval: {value}\n"
    error = refused(tmp_path, text, "feeds.yaml")
    assert str(error).startswith(f"{tmp_path / 'feeds.yaml'}:4: feeds[1].interval: expected a ")
    assert str(POLL_INTERVALS) in str(error)


@pytest.mark.parametrize("value", [".inf", "1e300", "1e20", ".nan", "-1", "1h"])
def test_a_channels_throttle_is_bounded(tmp_path: Path, value: str) -> None:
    text = f"channels:\n  - url: json://127.0.0.1/hook\n    name: hook\n    throttle: {value}\n"
    error = refused(tmp_path, text, "alerts.yaml")
    assert str(error).startswith(f"{tmp_path / 'alerts.yaml'}:4: channels[0].throttle: ")
    assert "from 0s to 10m" in str(error)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("json://127.0.0.1:99999/hook", "the port is not a number from 1 to 65535"),
        ("json://127.0.0.1:0/hook", "the port is not a number from 1 to 65535"),
        ("ntfy://user:pass@ntfy.example:70000/topic", "the port is not a number from 1 to 65535"),
        ("ntfy://exa\u202emple.com/topic", "character U+202E is not accepted in a host"),
        ("ntfy://exa%E2%80%AEmple.com/topic", "character U+202E is not accepted in a host"),
    ],
)
def test_a_channel_url_apprise_takes_but_no_delivery_could_use_is_refused(
    tmp_path: Path, url: str, message: str
) -> None:
    """Apprise accepts these at load; every delivery would fail."""
    text = f'channels:\n  - name: hook\n    url: "{url}"\n'
    error = refused(tmp_path, text, "alerts.yaml")
    assert str(error) == f"{tmp_path / 'alerts.yaml'}:3: channels[0].url: {message}"


@pytest.mark.parametrize(
    "entries",
    [
        "json://127.0.0.1/hook\nfoo://unknown.example/x\n",
        "urls:\n  - json://127.0.0.1/hook\n  - slack://\n",
    ],
)
def test_an_entry_apprise_would_drop_from_its_file_is_refused(tmp_path: Path, entries: str) -> None:
    """Apprise drops an entry of its configuration file it cannot read and keeps the rest:
    that target would never hear a thing."""
    (tmp_path / "apprise.yml").write_text(entries, encoding="utf-8")
    text = "channels:\n  - name: team\n    config: apprise.yml\n"
    error = refused(tmp_path, text, "alerts.yaml")
    assert str(error).startswith(
        f"{tmp_path / 'alerts.yaml'}:2: channels[0].config: Apprise cannot read 1 of the "
        "entries in apprise.yml"
    )
    assert "unknown.example" not in str(error)


def test_a_channels_throttle_within_range_loads(tmp_path: Path) -> None:
    (tmp_path / "alerts.yaml").write_text(
        "channels:\n  - url: json://127.0.0.1/hook\n    throttle: 5.5\n"
        "  - url: json://127.0.0.1/other\n    throttle: 10m\n",
        encoding="utf-8",
    )
    assert [c.throttle for c in load_alerts(tmp_path, env={}).channels] == [5.5, 600]


# Property: whatever an operator writes for a key, the loader gives a value in range or a
# ConfigError; no other exception.

SCALARS = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats().map(lambda f: ".nan" if math.isnan(f) else {math.inf: ".inf"}.get(f, repr(f))),
    st.floats(allow_nan=False).map(lambda f: "-.inf" if f == -math.inf else repr(f)),
    st.from_regex(r"\A\d{1,40}(\.\d{1,8})?\s?[smhdwy]?\Z").map(json.dumps),
    st.text(max_size=30).map(json.dumps),
    st.text(st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(["true", "no", "null", "~", "[]", "{}", "[1, 2]", "{a: 1}", "2026-01-01"]),
)


def in_range(dotted: str, value: Any) -> bool:
    bound = BOUNDS.get(dotted)
    if isinstance(bound, Range):
        return (
            isinstance(value, int | float) and math.isfinite(value) and bound.check(value) == value
        )
    if isinstance(bound, Text):
        return value is None or bound.check(value) == value
    return True


@FAST
@given(dotted=st.sampled_from(sorted(setting_names())), value=SCALARS)
def test_any_value_in_monitor_yaml_loads_in_range_or_is_a_config_error(
    tmp_path: Path, dotted: str, value: str
) -> None:
    (tmp_path / "monitor.yaml").write_text(nested(dotted, value), encoding="utf-8")
    try:
        loaded = load_settings(tmp_path, env={})
    except ConfigError:
        return
    assert in_range(dotted, value_at(loaded, dotted))


@FAST
@given(dotted=st.sampled_from(sorted(setting_names())), value=st.text(max_size=40))
def test_any_variable_loads_in_range_or_is_a_config_error(
    tmp_path: Path, dotted: str, value: str
) -> None:
    try:
        loaded = load_settings(tmp_path, env={setting_names()[dotted]: value})
    except ConfigError:
        return
    assert in_range(dotted, value_at(loaded, dotted))


@FAST
@given(key=st.sampled_from(["interval", "name", "enabled", "url"]), value=SCALARS)
def test_any_value_in_feeds_yaml_loads_in_range_or_is_a_config_error(
    tmp_path: Path, key: str, value: str
) -> None:
    head = "feeds:\n  - url: https://a.example/rss\n"
    (tmp_path / "feeds.yaml").write_text(f"{head}    {key}: {value}\n", encoding="utf-8")
    try:
        [feed] = load_feeds(tmp_path)
    except ConfigError:
        return
    assert feed.interval is None or POLL_INTERVALS.low <= feed.interval <= POLL_INTERVALS.high


@FAST
@given(value=st.one_of(SCALARS, st.text(max_size=30)))
def test_any_since_is_a_moment_in_range_or_a_usage_error(value: str) -> None:
    try:
        moment = since(value)
    except typer.BadParameter as exc:
        assert exc.exit_code == 2
        return
    assert moment is not None and moment.tzinfo is not None
    try:
        seconds = LOOKBACK.parse(value)
    except ValueError:
        return  # a date
    assert LOOKBACK.low <= seconds <= LOOKBACK.high


# The command line, as scripts run it.


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["hits", "--since", "99999999999d"], "--since: '99999999999d': expected a duration"),
        (["hits", "--stored-since", "1" + "0" * 400 + "s"], "--stored-since: '1000"),
        (["search", "firewall", "--until", "99999999999w"], "--until: '99999999999w': exp"),
        (["profiles", "backtest", "great_firewall", "--since", "99999999999d"], "--since: '9"),
        (["db", "prune", "--older-than", "99999999999d"], "--older-than: '99999999999d': exp"),
        (["feeds", "add", "https://a.example/rss", "--interval", "99999999999d"], "--interval: '"),
        (["hits", "--since", "0001-01-01T00:00+01:00"], "expected a date from 0001-01-01"),
    ],
)
def test_a_careless_duration_on_the_command_line_is_a_usage_error(
    tmp_path: Path, config_dir: Path, args: list[str], words: str
) -> None:
    ran = monitor("--config", str(config_dir), *args, cwd=tmp_path)
    assert ran.returncode == 2, ran.stderr
    assert words in ran.stderr and "Traceback" not in ran.stderr
    if "date" not in words:
        assert "expected a duration from" in ran.stderr
    assert (config_dir / "feeds.yaml").read_text(encoding="utf-8") == "feeds: []\n"


@pytest.mark.slow
def test_a_careless_setting_stops_the_command_with_exit_2(tmp_path: Path, config_dir: Path) -> None:
    (config_dir / "monitor.yaml").write_text("fetch:\n  concurrency: 1000000\n", encoding="utf-8")
    ran = monitor("--config", str(config_dir), "run", "--once", cwd=tmp_path)
    assert ran.returncode == 2 and "Traceback" not in ran.stderr
    assert f"{config_dir / 'monitor.yaml'}:2: fetch.concurrency: expected a number" in ran.stderr
