"""Smoke test of the service benchmarks (benchmarks.limit, .pipeline, .quiet) on tiny sizes:
they run, report every figure with a positive median, and the pipeline stores exactly the
entries the farm served. No timing thresholds."""

from __future__ import annotations

import argparse
from types import ModuleType
from typing import Any

import pytest

from benchmarks import limit, pipeline, quiet
from benchmarks.instance import postgres_unavailable
from tests.conftest import REQUIRE_PG

pytestmark = pytest.mark.slow  # processes, servers or whole cycles: `make test-quick` skips it


def options(module: ModuleType, *arguments: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return parser.parse_args(list(arguments))


def figures(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The result's figures by name, each checked to have a positive median."""
    found = {row["figure"]: row for row in result["figures"]}
    for name, row in found.items():
        assert row["median"] > 0, name
    return found


def test_limit_extracts_every_served_page() -> None:
    result = limit.run(options(limit, "--feeds", "3", "--entries", "3", "--runs", "1"))
    assert result["name"] == "limit"
    assert set(figures(result)) == {"limit: extraction on every core", "limit: worker CPU per page"}
    (run,) = result["details"]["runs"]
    assert run["pages"] == 9
    assert run["failed"] == 0


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_pipeline_stores_what_the_farm_served(kind: str) -> None:
    if kind == "postgresql" and (reason := postgres_unavailable()):
        if REQUIRE_PG:
            pytest.fail(f"{reason}; MONITOR_TEST_REQUIRE_POSTGRES=1 makes this an error")
        pytest.skip(reason)
    arguments = ["--feeds", "3", "--entries", "3", "--delay", "0", "--runs", "1"]
    result = pipeline.run(options(pipeline, *arguments, "--databases", kind))
    expected = {f"pipeline {kind}", f"pipeline {kind} / limit", f"pipeline {kind}: peak memory"}
    assert expected <= set(figures(result))
    (run,) = result["details"]["pipeline_runs"][kind]
    assert run["served"] == 9
    assert run["entries_new"] == run["stored"] == 9
    assert run["feeds_failed"] == 0
    assert run["log_errors"] == []
    assert result["details"]["terms"] > 400  # the shipped profiles' terms and sampled ones


def test_quiet_cycles_poll_every_feed_and_find_nothing_new() -> None:
    result = quiet.run(options(quiet, "--feeds", "50", "--cycles", "1"))
    names = set(figures(result))
    for variant in quiet.VARIANTS:
        assert f"quiet {variant}: polls" in names
        assert f"quiet {variant}: main CPU per poll" in names
    cycles = result["details"]["cycles"]
    assert len(cycles) == 2
    for cycle in cycles:
        assert cycle["feeds_polled"] == 50
        assert cycle["entries_new"] == cycle["feeds_failed"] == 0
