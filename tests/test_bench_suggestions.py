"""benchmarks/suggestions.py run on one profile of the relevance corpus the repository
holds: every false positive is listed with where the person's exclusion stands (in the
list, among the hit's own), the figures say so, and the backtests agree."""

from __future__ import annotations

import argparse

import pytest

from benchmarks import suggestions
from monitor.workbench.suggestions import PER_HIT

pytestmark = pytest.mark.slow


def test_one_profile_is_measured_against_a_persons_exclusions() -> None:
    parser = argparse.ArgumentParser()
    suggestions.add_arguments(parser)
    args = parser.parse_args(["--profile", "world_internet_conference"])
    result = suggestions.run(args)
    rows = result["false_positives"]
    assert rows and all(row["profile"] == "world_internet_conference" for row in rows)
    wanted = [row for row in rows if row["person"]]
    assert len(wanted) == 8  # as suggestions-persons.csv labels them
    figures = {f["figure"]: f["median"] for f in result["figures"]}
    offered = sum(bool(row["offered"] or row["own"]) for row in wanted)
    shown = sum(bool(row["own"] or (row["offered"] and row["offered"] <= 10)) for row in wanted)
    label = "person's exclusion offered, world_internet_conference"
    assert figures[label] == pytest.approx(offered / 8)
    assert figures["... first 10 or hit's own, world_internet_conference"] == (
        pytest.approx(shown / 8)
    )
    assert offered >= 6  # the hit's own exclusions find what the list alone did not (3)
    assert all(row["own"] is None or 1 <= row["own"] <= PER_HIT for row in rows)
    assert result["backtests"] and all(b["agrees"] for b in result["backtests"])
