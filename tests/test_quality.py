"""The relevance report (benchmarks/relevance.py) and what it holds the shipped profiles to.

The labelled texts shipped in benchmarks/corpus/relevance are split once into a development
half and a held-out half; the profiles are tuned on the first and judged on the second. The
report runs here on a few texts (a smoke test of the script people run by hand), the
development half is held to the floor it reached, and `make bench` prints the whole report
with the held-out figures against their targets. The shared corpus, when present, is held to
precision and recall of 0.9 as before.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.labelled import LABELS, assign_splits, read_corpus
from benchmarks.relevance import OWN_CORPUS, load, report
from tests.conftest import REPO

SHARED = REPO.parent / "shared" / "corpus" / "relevance"
HEADER = "file,wic,great_firewall,cyber_sovereignty,china_cyber_regulator,china_cybersecurity"


def _report(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.relevance", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_report_runs_on_a_few_shipped_texts() -> None:
    result = _report("--corpus", str(OWN_CORPUS), "--limit", "6")
    assert result.returncode == 0, result.stderr
    assert "## dev" in result.stdout or "## held-out" in result.stdout
    for name in ("world_internet_conference", "great_firewall", "china_cybersecurity"):
        assert name in result.stdout
    assert "## errors" in result.stdout


def test_shipped_profiles_hold_their_development_half() -> None:
    """A floor under what the profiles reached when tuned on the development half (lowest:
    china_cyber_regulator precision 0.79): an edit that loses it fails here. The held-out
    targets are judged by `make bench`, not tuned against."""
    result = _report("--corpus", str(OWN_CORPUS), "--split", "dev", "--min", "0.75")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr


def test_shipped_corpus_has_the_size_and_mix_the_guide_asks_for() -> None:
    texts, warnings = read_corpus(OWN_CORPUS, default_split="")
    assert not warnings
    assert len(texts) >= 150
    languages = Counter(t.language for t in texts)
    for language in ("en", "zh-Hans", "zh-Hant", "ru"):
        assert languages[language] >= 30, languages
    assert sum(not t.relevant for t in texts) >= 40
    assert {t.split for t in texts} == {"dev", "held-out"}
    for text in texts:  # the source URL on the first line
        first = (OWN_CORPUS / text.file).read_text(encoding="utf-8").split("\n", 1)[0]
        assert first.startswith(("http://", "https://")), text.file


@pytest.mark.skipif(not (SHARED / LABELS).exists(), reason=f"no shared corpus at {SHARED}")
def test_shipped_profiles_reach_0_9_on_the_shared_corpus() -> None:
    result = _report("--corpus", str(SHARED), "--min", "0.9")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr


def _corpus(folder: Path, rows: list[str], texts: dict[str, str]) -> Path:
    folder.mkdir()
    (folder / LABELS).write_text("\n".join([HEADER + ",language,note,split", *rows]) + "\n")
    for name, body in texts.items():
        (folder / name).write_text(f"https://example.org/{name}\n{body}", encoding="utf-8")
    return folder


def test_report_lists_each_error_with_its_terms_and_sentence(tmp_path: Path) -> None:
    corpus = _corpus(
        tmp_path / "mine",
        [
            "blocked.txt,0,0,0,0,0,en,,dev",
            "quiet.txt,0,1,0,0,0,en,,held-out",
            "right.txt,0,1,0,0,0,en,,held-out",
        ],
        {
            "blocked.txt": "Travel notes. China blocks Google and Gmail for everyone.",
            "quiet.txt": "A long day. The walls went up around the web in Beijing.",
            "right.txt": "Gmail was blocked in China this week, users said.",
        },
    )
    verdicts, names = load([corpus], REPO / "config", None)
    lines = "\n".join(report(verdicts, names, ["dev", "held-out"]))
    assert "[dev] great_firewall FP blocked.txt" in lines
    assert "matched: " in lines and "Google" in lines
    assert "[held-out] great_firewall FN quiet.txt" in lines
    assert "closest: The walls went up around the web in Beijing." in lines
    assert "right.txt" not in lines  # a true positive is not an error
    assert "missed: great_firewall: recall 0.50 < 0.90" in lines
    result = _report("--corpus", str(corpus), "--targets")
    assert result.returncode == 1
    assert "great_firewall: recall 0.50" in result.stderr


def test_a_bad_label_names_the_file_and_line(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "bad", ["one.txt,0,yes,0,0,0,en,,dev"], {"one.txt": "text"})
    result = _report("--corpus", str(corpus))
    assert result.returncode == 2
    assert f"{corpus / LABELS}, line 2: great_firewall must be 0 or 1" in result.stderr


def test_splits_are_balanced_random_and_never_rewritten(tmp_path: Path) -> None:
    rows = [f"t{n:02}.txt,{n % 2},0,0,0,0,{'en' if n < 20 else 'ru'},," for n in range(40)]
    rows[0] += "held-out"  # one text already has its half
    texts = {f"t{n:02}.txt": "body" for n in range(40)}
    first = _corpus(tmp_path / "a", rows, texts)
    second = _corpus(tmp_path / "b", rows, texts)
    assert assign_splits(first, seed=7) == 39
    assert assign_splits(second, seed=7) == 39
    assert (first / LABELS).read_text() == (second / LABELS).read_text()  # one seed, one split
    with (first / LABELS).open() as fh:
        written = list(csv.DictReader(fh))
    assert written[0]["split"] == "held-out"
    for language in ("en", "ru"):
        for relevant in ("0", "1"):
            group = [
                r["split"] for r in written if r["language"] == language and r["wic"] == relevant
            ]
            assert abs(group.count("dev") - group.count("held-out")) <= 1, (language, relevant)
    assert assign_splits(first, seed=8) == 0  # a split once written stays
    other = _corpus(tmp_path / "c", rows, texts)
    assign_splits(other, seed=8)
    assert (other / LABELS).read_text() != (first / LABELS).read_text()  # the seed decides


def test_a_user_checks_their_own_profile_as_the_readme_says(tmp_path: Path) -> None:
    config = tmp_path / "config"
    (config / "profiles").mkdir(parents=True)
    (config / "profiles" / "chip_export.yaml").write_text(
        'query: |\n  ("export controls" OR "export control") NEAR/5 (chip OR chips)\n'
    )
    texts = tmp_path / "my-texts"
    texts.mkdir()
    bodies = {
        "a.txt": "New export controls on advanced chips were announced on Friday.",
        "b.txt": "The chip maker said export control rules cost it a quarter of its sales.",
        "c.txt": "Semiconductor shortages eased; no new rules were published.",
        "d.txt": "Potato chips exports rose, the trade office said.",
    }
    for name, body in bodies.items():
        (texts / name).write_text(f"https://example.org/{name}\n{body}", encoding="utf-8")
    (texts / LABELS).write_text(
        "file,language,note,chip_export\na.txt,en,,1\nb.txt,en,,1\nc.txt,en,,1\nd.txt,en,,0\n"
    )
    base = ("--corpus", str(texts), "--config", str(config))
    assert _report(*base, "--assign-splits", "7").returncode == 0
    splits = {t.file: t.split for t in read_corpus(texts, default_split="")[0]}
    assert set(splits.values()) <= {"dev", "held-out"} and len(splits) == 4
    whole = _report(*base)
    assert whole.returncode == 0, whole.stderr
    assert "chip_export" in whole.stdout
    assert f"[{splits['c.txt']}] chip_export FN c.txt" in whole.stdout  # no export control in it
    assert "closest: Semiconductor shortages eased;" in whole.stdout


def test_docs_carry_the_latest_report() -> None:
    """docs/relevance.md shows the report of the shipped profiles on the shipped texts as it
    is now: a profile or label edit that changes a figure must update it."""
    page = (REPO / "docs" / "relevance.md").read_text(encoding="utf-8")
    begin, end = "<!-- report: begin -->\n```text\n", "```\n<!-- report: end -->"
    assert begin in page and end in page
    shown = page.split(begin, 1)[1].split(end, 1)[0]
    result = _report("--corpus", str(OWN_CORPUS), "--summary")
    assert result.returncode == 0, result.stderr
    assert shown == result.stdout, (
        "docs/relevance.md is stale: paste the output of "
        "`.venv/bin/python -m benchmarks.relevance --corpus benchmarks/corpus/relevance --summary`"
    )
