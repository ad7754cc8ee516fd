"""The whole benchmark suite in one command (`make bench`): every benchmark in turn, one table
of figures with their targets, the machine, and benchmarks/results/suite.json.

    python -m benchmarks.run                      # default sizes (about 20-30 minutes)
    python -m benchmarks.run --quick              # small sizes, a few minutes
    python -m benchmarks.run --only pipeline,quiet
    python -m benchmarks.run --args "pipeline=--feeds 80 --delay 0" --args "quiet=--feeds 2000"

Each benchmark is also a module of its own (`python -m benchmarks.pipeline --help`).
"""

from __future__ import annotations

import argparse
import importlib
import shlex
import time
import traceback
from typing import Any

from benchmarks.common import Figure, machine, machine_line, print_figures, write_result

# In the order they run: the costly end-to-end ones first, while the machine is freshest.
BENCHMARKS = (
    "pipeline",
    "quiet",
    "naive",
    "peer",
    "changed",
    "matching",
    "quality",
    "relevance",
    "archive",
    "evidence",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for every benchmark")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    parser.add_argument(
        "--args",
        action="append",
        default=[],
        metavar="NAME=ARGS",
        help='extra arguments for one benchmark, e.g. "pipeline=--feeds 80"',
    )
    options = parser.parse_args()
    chosen = options.only.split(",") if options.only else list(BENCHMARKS)
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    extra = _extra_arguments(options.args, parser)
    host = machine()
    print(machine_line(host))
    results: dict[str, Any] = {}
    for name in chosen:
        results[name] = _run_one(name, options.quick, extra.get(name, []))
    figures = [Figure.from_dict(f) for r in results.values() for f in r.get("figures", [])]
    print(machine_line(host))
    print_figures("all benchmarks", figures)
    path = write_result("suite", {"machine": host, "results": results})
    print(f"\nwritten: {path}")


def _extra_arguments(pairs: list[str], parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for pair in pairs:
        name, _, text = pair.partition("=")
        if name not in BENCHMARKS:
            parser.error(f"--args {pair!r}: no benchmark named {name!r}")
        out.setdefault(name, []).extend(shlex.split(text))
    return out


def _run_one(name: str, quick: bool, extra: list[str]) -> dict[str, Any]:
    """Run one benchmark module; a failure is reported and the suite goes on."""
    print(f"\n######## {name} ########", flush=True)
    started = time.monotonic()
    try:
        module = importlib.import_module(f"benchmarks.{name}")
        parser = argparse.ArgumentParser(prog=f"benchmarks.{name}")
        module.add_arguments(parser)
        arguments = (["--quick"] if quick and _accepts(parser, "--quick") else []) + extra
        result: dict[str, Any] = module.run(parser.parse_args(arguments))
    except Exception as exc:  # noqa: BLE001  (one broken benchmark must not hide the others)
        traceback.print_exc()
        return {"name": name, "figures": [], "error": f"{type(exc).__name__}: {exc}"}
    result["seconds"] = round(time.monotonic() - started, 1)
    print_figures(name, [Figure.from_dict(f) for f in result.get("figures", [])])
    return result


def _accepts(parser: argparse.ArgumentParser, flag: str) -> bool:
    return any(flag in action.option_strings for action in parser._actions)


if __name__ == "__main__":
    main()
