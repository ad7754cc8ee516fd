"""The shipped profiles on the labelled relevance corpus: precision and recall ≥ 0.9 each.

Runs benchmarks/relevance.py (the same script people run by hand) when ../shared/corpus is
present; a user's clone without it skips with the reason.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO

CORPUS = REPO.parent / "shared" / "corpus" / "relevance"


@pytest.mark.skipif(not (CORPUS / "labels.csv").exists(), reason=f"no labelled corpus at {CORPUS}")
def test_shipped_profiles_reach_precision_and_recall_of_0_9() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "relevance.py"), "--min", "0.9"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "world_internet_conference" in result.stdout
