"""Relevance report: precision, recall and F1 of the profiles on labelled texts, per profile
and per language, on the development half, the held-out half and any other labelled set, with
every false positive (its matched terms and snippet) and every false negative (the profile's
terms it did find and the sentence holding most of them) listed.

The labelled texts shipped with the project are in benchmarks/corpus/relevance (how they are
labelled: docs/relevance.md); the shared corpus (../shared/corpus/relevance) is read as a third
set when it is there. Texts are matched as the service matches an extracted article: the body
with an empty title.

    .venv/bin/python -m benchmarks.relevance                      # the whole report
    .venv/bin/python -m benchmarks.relevance --split dev          # tune on this half only
    .venv/bin/python -m benchmarks.relevance --targets            # exit 1 if held-out misses
    .venv/bin/python -m benchmarks.relevance --corpus my/texts --config my/config

Targets (held-out half): per profile precision and recall ≥ 0.9; per language where a profile
has at least five positives, recall ≥ 0.85. `--targets` checks them, `--min X` holds every
profile on the chosen sets to precision and recall ≥ X. Exit status: 0 fine, 1 a target or
floor missed, 2 a config or labels file that cannot be read.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import Figure, Spread
from benchmarks.labelled import LabelsError, Text, assign_splits, profile_columns, read_corpus
from monitor.errors import ConfigError
from monitor.profiles.files import load_profiles
from monitor.profiles.matcher import Matcher, folded_fields, outcome
from monitor.profiles.profile import Doc

REPO = Path(__file__).resolve().parent.parent
OWN_CORPUS = REPO / "benchmarks" / "corpus" / "relevance"
SHARED_CORPUS = REPO.parent / "shared" / "corpus" / "relevance"
DEFAULT_CONFIG = REPO / "config"
PRECISION, RECALL, LANGUAGE_RECALL, LANGUAGE_MIN = 0.9, 0.9, 0.85, 5
SENTENCE = re.compile(r"[^.!?。！？;；\n]+[.!?。！？;；]?")


@dataclass
class Score:
    """Confusion counts of one profile on some texts, with the files behind each error."""

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
    def positives(self) -> int:
        return self.tp + len(self.false_negatives)

    @property
    def precision(self) -> float | None:
        found = self.tp + len(self.false_positives)
        return self.tp / found if found else None

    @property
    def recall(self) -> float | None:
        return self.tp / self.positives if self.positives else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None
        return 2 * p * r / (p + r)


@dataclass(frozen=True)
class Verdict:
    """One profile on one text: what the labels say, what the profile did, and why."""

    text: Text
    profile: str
    expected: bool
    got: bool
    terms: tuple[str, ...]  # matched terms (a match) or the profile's terms found (no match)
    evidence: str  # the match's snippet, or the sentence holding most of the terms found
    learned: float | None = None  # the learned check's probability, where it was consulted


def judge(texts: Iterable[Text], config: Path, names: list[str]) -> list[Verdict]:
    """Match every text against every profile named in the labels."""
    profiles = {p.name: p for p in load_profiles(config)}
    missing = [n for n in names if n not in profiles]
    if missing:
        raise ConfigError(f"{config / 'profiles'}: no profile named {', '.join(missing)}")
    matcher = Matcher(profiles[n] for n in names)
    verdicts = []
    for text in texts:
        doc = Doc("", text.body, language=text.language or None)  # as the service detects it
        fields = folded_fields(doc)
        matched = {m.profile: m for m in matcher.match(doc, fields)}
        for name in names:
            result = outcome(matcher.evaluation(profiles[name], doc, fields))
            if name in matched:
                hit = matched[name]
                terms, evidence = tuple(hit.matched_terms), hit.snippet
            else:
                terms = tuple(result.matched_terms)
                evidence = closest_sentence(text.body, terms)
            relevant = name in text.relevant
            verdicts.append(
                Verdict(text, name, relevant, name in matched, terms, evidence, result.learned)
            )
    return verdicts


def closest_sentence(body: str, terms: Iterable[str]) -> str:
    """The sentence of `body` with the most of `terms` in it (the first sentence if none)."""
    sentences: list[str] = [s.strip() for s in SENTENCE.findall(body) if s.strip()]
    if not sentences:
        return ""
    wanted = [t.rstrip("*").casefold() for t in terms]
    best: str = max(sentences, key=lambda s: sum(t in s.casefold() for t in wanted))
    return best if len(best) <= 240 else best[:239] + "…"


def scores(verdicts: Iterable[Verdict]) -> dict[tuple[str, str, str], Score]:
    """Scores keyed by (set, profile, language), language "all" for the whole set."""
    out: dict[tuple[str, str, str], Score] = {}
    for v in verdicts:
        for language in ("all", v.text.language):
            score = out.setdefault((v.text.split, v.profile, language), Score())
            score.add(v.text.file, expected=v.expected, got=v.got)
    return out


def _fmt(value: float | None) -> str:
    return "   -" if value is None else f"{value:.2f}"


def table(
    split: str, table_scores: dict[tuple[str, str, str], Score], names: list[str]
) -> list[str]:
    """The per-profile, per-language lines of one set."""
    width = max(len(n) for n in names)
    lines = [
        f"{'profile':<{width}}  {'language':<8} {'pos':>4} {'TP':>3} {'FP':>3} {'FN':>3}"
        f"  {'P':>4}  {'R':>4}  {'F1':>4}"
    ]
    for name in names:
        languages = sorted(
            lang for s, n, lang in table_scores if s == split and n == name and lang != "all"
        )
        for language in ["all", *languages]:
            s = table_scores.get((split, name, language))
            if s is None or (language != "all" and not s.positives and not s.false_positives):
                continue
            shown = name if language == "all" else ""
            lines.append(
                f"{shown:<{width}}  {language:<8} {s.positives:>4} {s.tp:>3} "
                f"{len(s.false_positives):>3} {len(s.false_negatives):>3}  "
                f"{_fmt(s.precision)}  {_fmt(s.recall)}  {_fmt(s.f1)}"
            )
    return lines


def misses(table_scores: dict[tuple[str, str, str], Score], split: str = "held-out") -> list[str]:
    """One line per target the set misses (empty: all met)."""
    out = []
    for (s, name, language), score in sorted(table_scores.items()):
        if s != split:
            continue
        if language == "all":
            for what, value, floor in (
                ("precision", score.precision, PRECISION),
                ("recall", score.recall, RECALL),
            ):
                if value is not None and value < floor:
                    out.append(f"{name}: {what} {value:.2f} < {floor:.2f}")
        elif score.positives >= LANGUAGE_MIN and (score.recall or 0.0) < LANGUAGE_RECALL:
            out.append(f"{name} [{language}]: recall {score.recall:.2f} < {LANGUAGE_RECALL:.2f}")
    return out


def errors(verdicts: Iterable[Verdict]) -> list[str]:
    """Every false positive and false negative, with its terms and evidence."""
    lines = []
    for v in sorted(verdicts, key=lambda v: (v.text.split, v.profile, v.got, v.text.file)):
        if v.expected == v.got:
            continue
        kind = "FP" if v.got else "FN"
        terms = ", ".join(v.terms) if v.terms else "none of its terms"
        lines.append(f"[{v.text.split}] {v.profile} {kind} {v.text.file}")
        learned = f" (learned check {v.learned:.2f})" if v.learned is not None else ""
        lines.append(f"    {'matched' if v.got else 'found'}: {terms}{learned}")
        if v.evidence:
            lines.append(f"    {'snippet' if v.got else 'closest'}: {' '.join(v.evidence.split())}")
    return lines


def report(
    verdicts: list[Verdict], names: list[str], sets: list[str], *, summary: bool = False
) -> list[str]:
    """The whole report: a table per set, the held-out targets, then every error (not in a
    summary: docs/relevance.md carries the summary)."""
    by_set = scores(verdicts)
    lines = []
    for split in sets:
        count = len({v.text.file for v in verdicts if v.text.split == split})
        lines += ["", f"## {split} ({count} texts)"]
        if split == "dev" and any(v.learned is not None for v in verdicts):
            lines += [
                "(the learned check was trained on these texts: in-sample figures;",
                " `python -m benchmarks.learn --cv` gives cross-validated ones)",
            ]
        lines += table(split, by_set, names)
    if "held-out" in sets:
        missed = misses(by_set)
        lines += ["", "targets on held-out: " + ("all met" if not missed else "MISSED")]
        lines += [f"  missed: {m}" for m in missed]
    if not summary:
        lines += ["", "## errors", *(errors(verdicts) or ["none"])]
    return lines


def load(corpora: list[Path], config: Path, limit: int | None) -> tuple[list[Verdict], list[str]]:
    """Judge the texts of every corpus folder (the first `limit` of each, if given)."""
    texts: list[Text] = []
    names: list[str] = []
    for corpus in corpora:
        default = "shared" if corpus.resolve() == SHARED_CORPUS.resolve() else corpus.name
        found, warnings = read_corpus(corpus, default_split=default)
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        texts += found[:limit] if limit else found
        names += [n for n in profile_columns(corpus) if n not in names]
    return judge(texts, config, names), names


def _corpora(chosen: list[Path] | None) -> list[Path]:
    if chosen:
        return chosen
    return [OWN_CORPUS, *([SHARED_CORPUS] if (SHARED_CORPUS / "labels.csv").is_file() else [])]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", type=Path, action="append", help="labelled folder (repeat)")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="holds profiles/")
    parser.add_argument("--split", help="report only this set: dev, held-out, shared …")
    parser.add_argument("--limit", type=int, help="only the first N texts of each folder")
    parser.add_argument("--targets", action="store_true", help="exit 1 if held-out misses")
    parser.add_argument("--min", type=_fraction, metavar="X", help="exit 1 below X anywhere")
    parser.add_argument(
        "--assign-splits", type=int, metavar="SEED", help="give unsplit texts a half, then stop"
    )
    parser.add_argument("--quick", action="store_true", help="the first 20 texts of each folder")
    parser.add_argument("--summary", action="store_true", help="the tables only, no error list")


def run(args: argparse.Namespace) -> dict[str, Any]:
    """For `make bench`: the report printed, and the held-out figures with their targets."""
    verdicts, names = load(_corpora(args.corpus), args.config, 20 if args.quick else args.limit)
    print("\n".join(report(verdicts, names, _sets(verdicts, args.split))))
    figures = []
    for (split, name, language), s in sorted(scores(verdicts).items()):
        if split != "held-out" or (language != "all" and s.positives < LANGUAGE_MIN):
            continue
        measures = [("precision", s.precision, PRECISION)] if language == "all" else []
        floor = RECALL if language == "all" else LANGUAGE_RECALL
        for what, value, target in [*measures, ("recall", s.recall, floor)]:
            if value is not None:
                label = f"relevance {what} {name}" + ("" if language == "all" else f" [{language}]")
                figures.append(
                    Figure(
                        label, Spread(value, value, value, 1), "", f"≥ {target}", value >= target
                    )
                )
    return {"name": "relevance", "figures": [f.as_dict() for f in figures]}


def _sets(verdicts: list[Verdict], only: str | None) -> list[str]:
    present = list(dict.fromkeys(v.text.split for v in verdicts))
    order = [s for s in ("dev", "held-out") if s in present] + [
        s for s in present if s not in ("dev", "held-out")
    ]
    return [only] if only else order


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_arguments(parser)
    args = parser.parse_args(argv)
    corpora = _corpora(args.corpus)
    try:
        if args.assign_splits is not None:
            for corpus in corpora:
                print(f"{corpus}: {assign_splits(corpus, args.assign_splits)} rows given a split")
            return 0
        limit = 20 if args.quick else args.limit
        verdicts, names = load(corpora, args.config, limit)
    except (ConfigError, LabelsError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sets = _sets(verdicts, args.split)
    chosen = [v for v in verdicts if v.text.split in sets]
    count = len({v.text.file for v in chosen})
    print(f"# relevance of the profiles in {args.config.name}/ on {count} texts")
    print("\n".join(report(chosen, names, sets, summary=args.summary)))
    failures = misses(scores(verdicts)) if args.targets else []
    if args.min is not None:
        for (split, name, language), s in sorted(scores(chosen).items()):
            for what, value in (("precision", s.precision), ("recall", s.recall)):
                if language == "all" and value is not None and value < args.min:
                    failures.append(f"{split} {name}: {what} {value:.2f} < {args.min:.2f}")
    for line in failures:
        print(f"missed: {line}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
