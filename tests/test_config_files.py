"""Configuration files: settings with MONITOR_* overrides, feeds.yaml, alerts.yaml and profile
files — valid ones load, broken ones fail with the file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.alerts.channels import LOG_CHANNEL, load_channels, route
from monitor.config.feedlist import add_feeds, load_feeds, read_opml, remove_feed, write_opml
from monitor.config.settings import DEFAULT_DATABASE_URL, load_settings, setting_names
from monitor.errors import ConfigError
from monitor.models import ChannelSpec, FeedSpec
from monitor.profiles.files import load_profiles


def test_settings_defaults_without_a_file(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, env={})
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.alerts.max_age == 7 * 86400


def test_settings_file_and_environment(tmp_path: Path) -> None:
    (tmp_path / "monitor.yaml").write_text("poll_interval: 15m\nfetch:\n  timeout: 12\n")
    settings = load_settings(
        tmp_path, env={"MONITOR_FETCH_TIMEOUT": "45", "MONITOR_ALERTS_MAX_AGE": "2d"}
    )
    assert settings.poll_interval == 900
    assert settings.fetch.timeout == 45
    assert settings.alerts.max_age == 2 * 86400


def test_settings_error_names_file_line_and_key(tmp_path: Path) -> None:
    (tmp_path / "monitor.yaml").write_text("log_level: INFO\nfetch:\n  timout: 12\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, env={})
    assert str(caught.value).startswith(f"{tmp_path / 'monitor.yaml'}:3: fetch.timout")


def test_settings_error_from_environment_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="MONITOR_POLL_INTERVAL"):
        load_settings(tmp_path, env={"MONITOR_POLL_INTERVAL": "10s"})


def test_every_setting_has_an_environment_variable() -> None:
    names = setting_names()
    assert names["database_url"] == "MONITOR_DATABASE_URL"
    assert names["fetch.max_bytes"] == "MONITOR_FETCH_MAX_BYTES"


def test_feeds_yaml_loads_intervals(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text(
        "feeds:\n  - url: https://a.example/rss\n    interval: 2h\n"
        "  - url: https://b.example/atom\n    name: B\n    interval: 60\n"
    )
    assert load_feeds(tmp_path) == [
        FeedSpec("https://a.example/rss", None, 7200),
        FeedSpec("https://b.example/atom", "B", 60),
    ]


@pytest.mark.parametrize(
    ("yaml", "line", "words"),
    [
        ("feeds:\n  - url: https://a.example\n    interval: 30\n", 3, "feeds[0].interval"),
        ("feeds:\n  - url: https://a.example\n  - url: file:///etc/passwd\n", 3, "http"),
        ("feeds:\n  - url: https://a.example\n    intervall: 1h\n", 3, "intervall"),
        ("feeds:\n  - url: https://a.example\n  - url: https://a.example\n", 3, "line 2"),
        ("feeds:\n  - url: [unclosed\n", 3, "invalid YAML"),
    ],
)
def test_feeds_yaml_errors_are_located(tmp_path: Path, yaml: str, line: int, words: str) -> None:
    (tmp_path / "feeds.yaml").write_text(yaml)
    with pytest.raises(ConfigError) as caught:
        load_feeds(tmp_path)
    assert caught.value.line == line
    assert caught.value.path == str(tmp_path / "feeds.yaml")
    assert words in str(caught.value)


def test_feeds_add_and_remove_keep_comments(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("# my feeds\nfeeds:\n  - url: https://a.example/rss  # the first\n")
    added = add_feeds(tmp_path, [FeedSpec("https://b.example/rss", "B", 3600)])
    assert added == [FeedSpec("https://b.example/rss", "B", 3600)]
    assert add_feeds(tmp_path, [FeedSpec("https://b.example/rss")]) == []
    text = path.read_text()
    assert "# my feeds" in text and "# the first" in text
    assert [f.url for f in load_feeds(tmp_path)] == [
        "https://a.example/rss",
        "https://b.example/rss",
    ]
    assert remove_feed(tmp_path, "https://a.example/rss")
    assert not remove_feed(tmp_path, "https://a.example/rss")
    assert [f.url for f in load_feeds(tmp_path)] == ["https://b.example/rss"]


def test_opml_round_trip(tmp_path: Path) -> None:
    specs = [FeedSpec("https://a.example/rss", "A & Co"), FeedSpec("https://b.example/atom")]
    opml = tmp_path / "feeds.opml"
    opml.write_text(write_opml(specs))
    assert read_opml(opml) == [
        FeedSpec("https://a.example/rss", "A & Co"),
        FeedSpec("https://b.example/atom", "https://b.example/atom"),
    ]


def test_opml_with_entity_bomb_is_refused(tmp_path: Path) -> None:
    opml = tmp_path / "bomb.opml"
    opml.write_text('<!DOCTYPE x [<!ENTITY a "aaaa">]><opml><body>&a;</body></opml>')
    with pytest.raises(ConfigError, match="not a readable OPML"):
        read_opml(opml)


def test_alert_channels_take_secrets_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / "alerts.yaml").write_text(
        "channels:\n  - url: mailto://u:${PW}@mail.example\n    tags: [ops]\n"
        "  - url: json://hook.example/x\n    name: hook\n"
    )
    mail, hook = load_channels(tmp_path, env={"PW": "s3cret"})
    assert mail.url == "mailto://u:s3cret@mail.example"
    assert "s3cret" not in mail.key and "s3cret" not in repr(mail)
    assert hook.key == "hook"
    assert route([mail, hook], ("ops",)) == [mail.key, "hook"]
    assert route([mail, hook], ("other",)) == ["hook"]
    assert route([ChannelSpec("m", "mailto://x", frozenset({"ops"}))], ("x",)) == [LOG_CHANNEL]


def test_missing_secret_variable_is_a_located_error(tmp_path: Path) -> None:
    (tmp_path / "alerts.yaml").write_text("channels:\n  - url: mailto://u:${NOPE}@mail.example\n")
    with pytest.raises(ConfigError, match=r"alerts.yaml:2: .*NOPE is not set"):
        load_channels(tmp_path, env={})


def test_profile_file_errors_are_located(tmp_path: Path) -> None:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "cac.yaml").write_text(
        "description: x\nmatch:\n  any: [网信办]\n  nnone: [x]\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_profiles(tmp_path)
    assert caught.value.line == 4
    assert "match.nnone" in str(caught.value)


@pytest.mark.parametrize(
    ("query", "column", "message"),
    [
        ("NOT " * 10_000 + "b", 3 + 4 * 32, "the query nests too deeply: at most 32 levels"),
        ("b NEAR/" + "9" * 5_000 + " c", 5, "NEAR/n: the distance is at most 1000 words"),
        (" NEAR/3 ".join(["w"] * 3_000), 3 + 9 * 15 + 2, "a NEAR chain joins at most 16 parts"),
    ],
)
def test_query_bounds_are_located_in_the_profile_file(
    tmp_path: Path, query: str, column: int, message: str
) -> None:
    (tmp_path / "profiles").mkdir()
    path = tmp_path / "profiles" / "huge.yaml"
    path.write_text(f"description: x\nquery: |\n  a OR\n  {query}\n")
    with pytest.raises(ConfigError) as caught:
        load_profiles(tmp_path)
    assert (caught.value.path, caught.value.line, caught.value.column) == (str(path), 4, column)
    assert str(caught.value).startswith(f"{path}:4:{column}: query: {message}")
    assert len(str(caught.value)) < 500  # the query around the place, not all of it


def test_profile_needs_positive_terms(tmp_path: Path) -> None:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "x.yaml").write_text("match:\n  none: [a]\n")
    with pytest.raises(ConfigError, match="at least one phrase"):
        load_profiles(tmp_path)


def test_profile_version_changes_with_the_concepts_it_uses(tmp_path: Path) -> None:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "x.yaml").write_text("query: '@CAC OR firewall'\n")
    (tmp_path / "profiles" / "y.yaml").write_text("query: firewall\n")
    (tmp_path / "concepts.yaml").write_text("concepts:\n  CAC: [网信办]\n")
    first = {p.name: p.version for p in load_profiles(tmp_path)}
    (tmp_path / "concepts.yaml").write_text("concepts:\n  CAC: [网信办, 国家网信办]\n")
    second = {p.name: p.version for p in load_profiles(tmp_path)}
    assert first["x"] != second["x"]
    assert first["y"] == second["y"]


def test_profile_version_changes_with_its_text(tmp_path: Path) -> None:
    (tmp_path / "profiles").mkdir()
    path = tmp_path / "profiles" / "x.yaml"
    path.write_text("match:\n  any: [a]\n")
    first = load_profiles(tmp_path)[0].version
    path.write_text("match:\n  any: [a, b]\n")
    assert load_profiles(tmp_path)[0].version != first
