"""Relevance benchmark: how well the keyword profiles in config/profiles/ fit a labelled corpus.

The corpus folder holds one text per file plus labels.csv. The first line of each text is its
source URL and is skipped; the rest is matched as the article body with an empty title, exactly
as the service would match an extracted article. labels.csv has a `file` column, one 0/1
column per profile (named like the profile; `wic` stands for world_internet_conference) and
free columns such as `language` and `note`, which are ignored.

For every profile the script prints TP, FP, FN, precision, recall and F1, then names the files
of each false positive and false negative, so a profile edit can be judged at a glance.

    .venv/bin/python benchmarks/relevance.py [--corpus DIR] [--config DIR] [--min 0.9]

With `--min X` it exits 1 when any profile's precision or recall is below X (a profile with no
labelled positives has no recall, one that found nothing has no precision: those are not
checked), so a test or CI job can hold the profiles to a floor. Without a corpus folder it says
so and exits 0 (the corpus is not shipped with the project); a bad config or labels file exits 2.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path

from monitor.errors import ConfigError
from monitor.profiles.files import load_profiles
from monitor.profiles.matcher import Matcher
from monitor.profiles.profile import Doc

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "relevance"
DEFAULT_CONFIG = REPO / "config"
LABELS = "labels.csv"
NOT_LABELS = frozenset({"file", "language", "note"})  # columns that do not name a profile
ALIASES = {"wic": "world_internet_conference"}  # label column -> profile name


@dataclass
class Score:
    """Confusion counts of one profile, with the files behind each error."""

    tp: int = 0
    false_positives: list[str] = field(default_factory=list)
    false_negatives: list[str] = field(default_factory=list)

    def add(self, name: str, *, expected: bool, got: bool) -> None:
        if expected and got:
            self.tp += 1
        elif got:
            self.false_positives.append(name)
        elif expected:
            self.false_negatives.append(name)

    @property
    def precision(self) -> float | None:
        found = self.tp + len(self.false_positives)
        return self.tp / found if found else None

    @property
    def recall(self) -> float | None:
        relevant = self.tp + len(self.false_negatives)
        return self.tp / relevant if relevant else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None
        return 2 * p * r / (p + r)


def read_labels(corpus: Path) -> tuple[list[str], dict[str, dict[str, bool]]]:
    """The profile names labelled in labels.csv and, per file, the expected yes/no per profile."""
    with (corpus / LABELS).open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        columns = [c for c in reader.fieldnames or [] if c not in NOT_LABELS]
        labels = {
            row["file"]: {ALIASES.get(c, c): row[c].strip() == "1" for c in columns}
            for row in reader
        }
    return [ALIASES.get(c, c) for c in columns], labels


def read_body(path: Path) -> str:
    """The text of a corpus file without its first line (the source URL)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    return text.split("\n", 1)[1] if "\n" in text else ""


def evaluate(corpus: Path, config: Path) -> dict[str, Score]:
    """Match every labelled text against every profile and count hits and misses."""
    names, labels = read_labels(corpus)
    profiles = load_profiles(config)
    known = {p.name for p in profiles}
    for name in names:
        if name not in known:
            print(f"warning: no profile {name!r} in {config}; all its positives count as misses")
    matcher = Matcher(profiles)
    scores = {name: Score() for name in names}
    for file, expected in sorted(labels.items()):
        path = corpus / file
        if not path.is_file():
            print(f"warning: {file} is listed in {LABELS} but missing; skipped")
            continue
        got = {m.profile for m in matcher.match(Doc("", read_body(path)))}
        for name, score in scores.items():
            score.add(file, expected=expected[name], got=name in got)
    unlabelled = sorted({p.name for p in corpus.glob("*.txt")} - labels.keys())
    for file in unlabelled:
        print(f"warning: {file} has no row in {LABELS}; skipped")
    return scores


def _fmt(value: float | None) -> str:
    return "   -" if value is None else f"{value:.2f}"


def report(scores: dict[str, Score]) -> None:
    """The per-profile table, a micro-averaged total, then the files of every error."""
    width = max(len(name) for name in [*scores, "all (micro)"])
    print(f"{'profile':<{width}}  {'TP':>3} {'FP':>3} {'FN':>3}  {'P':>4}  {'R':>4}  {'F1':>4}")
    total = Score()
    for name, s in scores.items():
        fp, fn = len(s.false_positives), len(s.false_negatives)
        print(
            f"{name:<{width}}  {s.tp:>3} {fp:>3} {fn:>3}  "
            f"{_fmt(s.precision)}  {_fmt(s.recall)}  {_fmt(s.f1)}"
        )
        total.tp += s.tp
        total.false_positives += s.false_positives
        total.false_negatives += s.false_negatives
    fp, fn = len(total.false_positives), len(total.false_negatives)
    print(
        f"{'all (micro)':<{width}}  {total.tp:>3} {fp:>3} {fn:>3}  "
        f"{_fmt(total.precision)}  {_fmt(total.recall)}  {_fmt(total.f1)}"
    )
    for name, s in scores.items():
        for kind, files in (("FP", s.false_positives), ("FN", s.false_negatives)):
            for file in files:
                print(f"{name} {kind}: {file}")


def below(scores: dict[str, Score], floor: float) -> list[str]:
    """One line per profile whose precision or recall is below `floor`."""
    failures = []
    for name, s in scores.items():
        for measure, value in (("precision", s.precision), ("recall", s.recall)):
            if value is not None and value < floor:
                failures.append(f"{name}: {measure} {value:.2f} < {floor:.2f}")
    return failures


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="labelled texts")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="holds profiles/")
    parser.add_argument(
        "--min",
        type=_fraction,
        default=None,
        metavar="X",
        help="exit 1 if any profile's precision or recall is below X (0-1)",
    )
    args = parser.parse_args(argv)
    corpus: Path = args.corpus
    if not corpus.is_dir():
        print(f"corpus not found at {corpus}, skipping")
        return 0
    if not (corpus / LABELS).is_file():
        print(f"error: {corpus} has no {LABELS}", file=sys.stderr)
        return 2
    try:
        scores = evaluate(corpus, args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report(scores)
    if args.min is not None:
        failures = below(scores, args.min)
        for line in failures:
            print(f"below --min: {line}", file=sys.stderr)
        if failures:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
