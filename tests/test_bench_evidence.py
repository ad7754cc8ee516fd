"""benchmarks/evidence.py's quick run: a small farm, every page a hit kept as WARC, one
re-check pass bounded by evidence.per_cycle, a cycle with every hit due; the figures are
there and consistent."""

from __future__ import annotations

import argparse

import pytest

from benchmarks import evidence

pytestmark = pytest.mark.slow  # a farm process, extraction workers and three cycles


def test_quick_run_keeps_pages_and_measures_a_recheck_pass() -> None:
    parser = argparse.ArgumentParser()
    evidence.add_arguments(parser)
    result = evidence.run(parser.parse_args(["--quick"]))
    figures = {f["figure"]: f["median"] for f in result["figures"]}
    assert result["hits"] >= 30 and result["versions"] == result["hits"]  # one each
    assert 0 < result["files"] <= result["versions"]  # a body kept once
    assert figures["WARC files per 1,000 hit articles"] > 1  # MB: pages are tens of KB
    # 20 a pass (--quick's evidence.per_cycle), each an unchanged version (the farm's pages
    # do not change), and the re-checks are what a quiet cycle spends its time on
    assert result["rechecks"] == 20 and result["recheck_verdicts"] == {"unchanged": 20}
    assert figures["CPU per re-check (main + extraction)"] > 0
    assert 0 < figures["re-checks' share of that cycle"] <= 1
    assert not result["log_errors"]
