"""Smoke tests of the baseline benchmarks (naive loop, reader peer, changed feed): each runs
with tiny sizes and reports positive figures whose counts agree. No timing thresholds."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import pytest

from benchmarks import changed, naive, peer

pytestmark = pytest.mark.slow  # processes, servers or whole cycles: `make test-quick` skips it


def _options(add_arguments: Callable[[argparse.ArgumentParser], None], *args: str) -> Any:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(args))


def _check_figures(result: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    assert result["name"] == name
    figures = {f["figure"]: f for f in result["figures"]}
    assert figures
    for figure in figures.values():
        assert figure["median"] > 0, figure
        assert figure["low"] <= figure["median"] <= figure["high"]
        assert (figure["target"] is None) == (figure["ok"] is None)
    return figures


def test_sampled_terms_are_fixed_and_distinct() -> None:
    first, again = naive.sample_terms(200), naive.sample_terms(200)
    assert first.terms == again.terms
    assert len(set(first.terms)) == 200
    assert all(term.strip() == term and term for term in first.terms)


def test_naive_loop_and_pipeline_see_every_article() -> None:
    options = _options(
        naive.add_arguments, "--feeds=2", "--entries=2", "--runs=1", "--delay=0", "--terms=50",
        "--workers=1",
    )  # fmt: skip
    result = naive.run(options)
    figures = _check_figures(result, "naive")
    assert "ours ÷ naive (run_once), delay 0 ms" in figures
    runs = result["details"]["delays"]["delay 0 ms"]
    (loop,) = runs["naive"]
    assert loop["feeds"] == 2
    assert loop["articles"] == 4 == result["details"]["articles_served"]
    assert loop["farm_requests"] == 2 + 4  # every feed and every page, once
    for ours in (*runs["ours_run_once"], *runs["ours_warm_cycle"]):
        assert ours["feeds_failed"] == 0
        assert ours["entries_new"] == 4
        assert ours["farm_requests"] == 2 + 4


def test_reader_and_ours_store_the_same_entries() -> None:
    options = _options(
        peer.add_arguments, "--feeds=2", "--entries=3", "--runs=1", "--concurrency=2"
    )
    result = peer.run(options)
    _check_figures(result, "peer")
    sides = result["details"]["sides"]
    assert set(sides) == {"reader", "ours", "ours, no profiles", "ours, run_once"}
    for side in sides.values():
        assert side["entries_stored"] == [6]
        (fresh,), (quiet,) = side["fresh"], side["quiet"]
        assert (fresh["feeds"], fresh["entries_new"], fresh["errors"]) == (2, 6, 0)
        assert (quiet["feeds"], quiet["entries_new"], quiet["not_modified"]) == (2, 0, 2)
        assert quiet["farm_requests"] == 2  # one conditional GET per feed


def test_changed_feed_paths_find_the_one_new_entry() -> None:
    options = _options(changed.add_arguments, "--runs=1", "--history=5", "--items=10")
    result = changed.run(options)
    figures = _check_figures(result, "changed")
    assert figures["ours: changed feed to queued entry"]["target"]
    details = result["details"]
    assert details["items"] == 10
    assert details["new_entries"] == {"ours": ["changed-10"], "before": ["changed-10"]}
