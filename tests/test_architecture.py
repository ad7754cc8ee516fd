"""The package's shape: the direction of imports (lint-imports, run by `make lint`, with the
contracts in pyproject.toml) holds, a forbidden import breaks it, and the README's layout map
names every module."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGE = REPO / "monitor"


def _lint_imports(package_parent: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports with the repository's contracts over the `monitor` package found in
    `package_parent` (first on the import path)."""
    return subprocess.run(
        [str(LINT_IMPORTS), str(REPO / "pyproject.toml"), "--no-cache"],
        cwd=package_parent,
        env={"PYTHONPATH": str(package_parent), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_package_keeps_its_import_contracts() -> None:
    done = _lint_imports(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 kept, 0 broken" in done.stdout
    assert _broken(done.stdout) == []


def _broken(output: str) -> list[str]:
    """The contracts lint-imports reports broken (their `id`s, from their names)."""
    names = {
        "faces → runtime": "layers",
        "SQL stays in the store": "sql-in-store",
        "feedparser and trafilatura": "libraries-where-wrapped",
        "no import loop": "no-cycles",
    }
    flat = " ".join(output.split())  # lint-imports wraps long names
    broken = []
    for start, key in names.items():
        at = flat.index(start)  # its line in the summary, ending in KEPT or BROKEN
        kept, lost = flat.find(" KEPT", at), flat.find(" BROKEN", at)
        if lost != -1 and (kept == -1 or lost < kept):
            broken.append(key)
    return sorted(broken)


@pytest.mark.parametrize(
    ("module", "added", "broken", "shown"),
    [
        # alerts import nothing from the store: the outbox talks to OutboxStore
        ("alerts/compose.py", "from monitor.store import hits", "layers", "monitor.store.hits"),
        # profiles are below ingest
        ("profiles/matcher.py", "import monitor.ingest.urls", "layers", "monitor.ingest.urls"),
        # nothing imports the CLI
        ("runtime/service.py", "import monitor.cli.common", "layers", "monitor.cli.common"),
        # the pipeline reaches the database through its protocol, not SQL
        ("pipeline/poll.py", "import sqlmodel", "sql-in-store", "monitor.pipeline.poll"),
        # feedparser enters in ingest only
        ("store/feeds.py", "import feedparser", "libraries-where-wrapped", "feedparser"),
        # a loop between two modules of one package
        ("pipeline/stories.py", "import monitor.pipeline.entry", "no-cycles", ".stories"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(
    tmp_path: Path, module: str, added: str, broken: str, shown: str
) -> None:
    shutil.copytree(PACKAGE, tmp_path / "monitor", ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "monitor" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{added}  # noqa\n")
    done = _lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert broken in _broken(done.stdout), done.stdout
    assert shown in done.stdout


def _layout_map() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Layout", 1)[1]
    return section.split("```", 2)[1]


def test_the_readme_layout_map_names_every_module() -> None:
    """Every package is a line of its own (`name/`) and every module's name is written in
    the lines of its package (migration scripts excepted)."""
    layout = _layout_map()
    blocks: dict[str, str] = {}
    current = ""
    for line in layout.splitlines():
        head = re.match(r"\s{2}(\w+)/|\s{2}(\w+\.py)", line)
        if head:
            current = head.group(1) or ""
        blocks[current] = blocks.get(current, "") + line + "\n"
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if "migrations" in relative.parts or path.name == "__init__.py":
            continue
        package = relative.parts[0] if len(relative.parts) > 1 else ""
        if package and package not in blocks:
            missing.append(f"{package}/")
            continue
        if not re.search(rf"\b{re.escape(path.stem)}\b", blocks.get(package, "")):
            missing.append(str(relative))
    assert not missing, f"not in the README's layout map: {missing}"


def test_the_root_holds_only_what_every_part_shares() -> None:
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(loose) <= 6, loose
    assert set(loose) <= {
        "__init__.py",
        "__main__.py",
        "models.py",
        "errors.py",
        "logs.py",
        "backoff.py",
    }


def _code_names() -> list[str]:
    """The names in the glossary's "in the code" column that name code (a class, a function,
    a module, an attribute): CamelCase or dotted, in backticks."""
    glossary = (REPO / "docs" / "glossary.md").read_text(encoding="utf-8")
    names: list[str] = []
    for row in glossary.splitlines():
        if row.startswith("| **"):
            column = row.split("|")[3]
            names += [n for n in re.findall(r"`([\w.]+)`", column) if "." in n or n[0].isupper()]
    return names


def _resolve(name: str, modules: dict[str, object]) -> bool:
    parts = name.removeprefix("monitor.").split(".")
    for size in range(len(parts), 0, -1):  # the longest module path first
        module = modules.get("monitor." + ".".join(parts[:size]))
        if module is not None:
            rest = parts[size:]
            break
    else:  # a bare class name: defined in one of the modules
        found = [m for m in modules.values() if hasattr(m, parts[0])]
        if not found:
            return False
        module, rest = found[0], parts
    target = module
    for part in rest:
        fields = getattr(target, "model_fields", {}) | getattr(target, "__dataclass_fields__", {})
        if not hasattr(target, part) and part not in fields:
            return False
        target = getattr(target, part, None)
    return True


def test_the_glossary_names_code_that_exists() -> None:
    import importlib

    skip = ("monitor.ingest.worker", "monitor.ingest.minhash", "monitor.__main__")  # workers' only
    modules: dict[str, object] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(REPO).with_suffix("")
        name = ".".join(relative.parts).removesuffix(".__init__")
        if "migrations" in relative.parts or name in skip:
            continue
        modules[name] = importlib.import_module(name)
    names = _code_names()
    assert len(names) > 20
    assert [n for n in names if not _resolve(n, modules)] == []
