"""Documentation that fails the build when it goes stale: settings, commands, the README."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from monitor.cli import EXIT_CODES, app
from monitor.config.settings import setting_bounds, setting_names
from tests.conftest import REPO


def _commands() -> list[tuple[str, Any]]:
    """Every `monitor` command and sub-command (typer carries its own copy of click)."""
    root: Any = typer.main.get_command(app)
    found: list[tuple[str, Any]] = []
    for name, command in root.commands.items():
        if hasattr(command, "commands"):
            found += [(f"{name} {sub}", c) for sub, c in command.commands.items()]
        else:
            found.append((name, command))
    return found


def test_every_setting_is_documented() -> None:
    page = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    for dotted, variable in setting_names().items():
        assert f"| `{dotted}` | `{variable}` |" in page, f"{dotted} missing from configuration.md"


def test_every_settings_range_is_documented_as_enforced() -> None:
    page = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    names = setting_names()
    for dotted, bound in setting_bounds().items():
        row = f"| `{dotted}` | `{names[dotted]}` |"
        line = next(line for line in page.splitlines() if line.startswith(row))
        assert f" | {bound}: " in line, f"{dotted}: range {bound} not in configuration.md"


def test_every_setting_is_in_the_shipped_monitor_yaml() -> None:
    shipped = (REPO / "config" / "monitor.yaml").read_text(encoding="utf-8")
    for dotted in setting_names():
        if dotted != "fetch.user_agent":
            assert re.search(rf"^\s*{dotted.split('.')[-1]}:", shipped, re.M), dotted


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name, command in _commands():
        assert command.help, f"`monitor {name}` has no help text"
        assert f"monitor {name}" in readme, f"`monitor {name}` missing from README.md"


def _help(name: str) -> str:
    """What `monitor NAME --help` prints."""
    shown = CliRunner().invoke(app, [*name.split(), "--help"])
    assert shown.exit_code == 0, shown.output
    return shown.stdout


def test_no_help_shows_a_metavar_on_a_flag() -> None:
    for name in ["", *(name for name, _ in _commands())]:
        shown = _help(name)
        assert "--help  " in shown, shown  # flags listed without a value
        assert "<bool>" not in shown, f"`monitor {name} --help`:\n{shown}"


@pytest.mark.parametrize("name", [name for name, _ in _commands()])
def test_every_command_shows_an_example_and_names_its_values(name: str) -> None:
    lines = [line.strip() for line in _help(name).splitlines()]
    assert any(line.startswith(f"Example: monitor {name}") for line in lines), lines
    command = dict(_commands())[name]
    for param in command.params:
        if not getattr(param, "is_flag", False):  # an option taking a value, or an argument
            assert param.metavar and not param.metavar.startswith("<"), (name, param.name)


def test_readme_opens_with_the_two_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```sh", 1)[1].split("```", 1)[0].strip().splitlines()
    assert [line.split("#")[0].strip() for line in first_block] == ["make run", "make test"]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci


def test_every_exit_status_is_documented() -> None:
    page = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    table = page.split("\n## Exit status\n", 1)[1].split("\n## ", 1)[0]
    for kind, _, code in EXIT_CODES:
        assert f"\n| {code} |" in table, f"exit status {code} ({kind.__name__}) undocumented"
