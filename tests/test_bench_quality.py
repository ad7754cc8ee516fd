"""benchmarks/quality.py: its scoring (the ScrapingHub benchmark's shingle precision and recall)
on hand-made texts, and a quick run on a few real pages when ../shared/corpus is present."""

from __future__ import annotations

import argparse

import pytest

from benchmarks import quality

TRUTH = "The regulator published new rules for data exports on Monday, officials said."


def test_a_text_against_itself_scores_one() -> None:
    page = quality.Overlap.of(TRUTH, TRUTH)
    assert (page.precision, page.recall, page.f1) == (1.0, 1.0, 1.0)
    assert quality.score([page]) == quality.Score(1.0, 1.0, 1.0)


def test_partial_overlap_counts_shingles() -> None:
    # 6 words -> 3 shingles of 4 words; the prediction keeps the first 5 words (2 shingles,
    # both right) and adds 2 words (2 wrong shingles): tp 2, fp 2, fn 1 out of 5.
    page = quality.Overlap.of("a b c d e f", "a b c d e x y")
    assert page.tp == pytest.approx(2 / 5)
    assert page.fp == pytest.approx(2 / 5)
    assert page.fn == pytest.approx(1 / 5)
    assert page.precision == pytest.approx(0.5)
    assert page.recall == pytest.approx(2 / 3)
    assert page.f1 == pytest.approx(4 / 7)


def test_tokens_are_words_and_repeats_count() -> None:
    assert quality.shingles("Hello, world!") == {("Hello", "world"): 1}
    assert sum(quality.shingles("x y z w " * 3).values()) == 9
    assert not quality.shingles(" -- ")


def test_pages_are_macro_averaged_and_empty_output_has_no_precision() -> None:
    perfect = quality.Overlap.of(TRUTH, TRUTH)
    missing = quality.Overlap.of(TRUTH, "")
    assert missing.precision is None
    assert missing.recall == 0.0
    total = quality.score([perfect, missing])
    assert total.precision == 1.0  # the empty page is left out of precision
    assert total.recall == 0.5
    assert total.f1 == pytest.approx(2 / 3)  # F1 of the averages, not the mean of page F1s


@pytest.mark.skipif(
    not quality.GROUND_TRUTH.is_file(), reason=f"no extraction benchmark at {quality.GROUND_TRUTH}"
)
def test_quick_run_on_five_pages() -> None:
    options = argparse.Namespace(
        quick=True, pages=5, passes=1, bootstrap=50, modes="ship-fast,benchmark-call"
    )
    result = quality.run(options)
    assert result["name"] == "quality"
    assert result["figures"][0]["figure"] == "extraction F1 (shipped options)"
    details = result["details"]
    assert details["pages"] == 5
    assert set(details["option_sets"]) == {"shipped", "ship-opts", "ship-fast", "benchmark-call"}
    for row in details["option_sets"].values():
        for key in ("precision", "recall", "f1"):
            assert 0.0 <= row[key] <= 1.0
        assert row["cpu_ms_median"] > 0
    assert details["shipped_text_mismatches"] == []  # SHIPPED_OPTIONS match extract_page


def test_without_corpus_nothing_is_measured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quality, "GROUND_TRUTH", quality.GROUND_TRUTH.with_name("absent.json"))
    result = quality.run(argparse.Namespace(quick=True))
    assert result == {"name": "quality", "figures": [], "details": {"corpus": None}}
