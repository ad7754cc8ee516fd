"""Extraction quality: precision, recall and F1 of our extraction stage, and of other trafilatura
option sets, against the human-written article bodies of the ScrapingHub
article-extraction-benchmark (181 pages in ../shared/corpus/extraction-benchmark), with the CPU
each option set costs per page.

Scoring follows that benchmark's definition, reimplemented here: the text is cut into word
tokens (runs of `\\w`), the tokens into overlapping 4-word shingles, and a page's true
positives, false positives and false negatives are the shingle counts shared, extra and missing
(as multisets), scaled to sum to 1 so that long pages weigh no more than short ones. Precision
and recall are macro-averaged over pages (a page with no output has no precision and a recall
of 0), and F1 is the harmonic mean of the two averages, not an average of per-page F1s. The ±
is the benchmark's own: 1.96 × the standard deviation of F1 over bootstrap resamples of pages.

Every page goes through every option set back to back, the order rotating from page to page
and pass to pass; CPU is the process time of each call (`time.process_time`), the median over
passes per page, so a drift of the host's speed hits every option set alike. `shipped` calls
our own extract_page (with its MinHash signature); `ship-opts` runs the same trafilatura
options without the signature and is the base the variants (`ship+…`, `ship-…`) are compared
with; the plain `extract(...)` sets are references, not drop-in replacements (no metadata).

    .venv/bin/python -m benchmarks.quality            # 181 pages, 2 passes: about 4 minutes
    .venv/bin/python -m benchmarks.quality --quick    # the first 30 pages
    .venv/bin/python -m benchmarks.quality --modes shipped,ship-opts,ship-fast
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import statistics
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trafilatura
from trafilatura.deduplication import LRU_TEST

from benchmarks.common import (
    CORPUS,
    Figure,
    Spread,
    corpus_pages,
    cpu_ms,
    report,
)
from monitor.ingest.worker import TRAFILATURA_OPTIONS, extract_page

GROUND_TRUTH = CORPUS / "extraction-benchmark" / "ground-truth.json"
QUICK_PAGES = 30
SHINGLE = 4
BOOTSTRAP = 1000
PASSES = 2  # CPU per page is the median over passes; the scores come from the first
F1_TARGET = 0.96
F1_TOLERANCE = 0.005  # "do not lower extraction F1 by more than 0.005 for speed"
SHIPPED = "shipped"
BASE = "ship-opts"  # the shipped options through bare_extraction: the base of the variants
# The options extract_page passes (monitor/ingest/worker.py); BASE checks, page by page, that
# they still give the text extract_page gives, so a change there shows up as a mismatch.
SHIPPED_OPTIONS: dict[str, Any] = dict(TRAFILATURA_OPTIONS)  # what monitor/ships

Extraction = Callable[[bytes, str], str]  # (page bytes, page URL) -> article text, "" for none


# --- scoring ------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def shingles(text: str, size: int = SHINGLE) -> Counter[tuple[str, ...]]:
    """The multiset of `size`-word shingles of a text (one shorter shingle if it has fewer
    words, none if it has no word)."""
    words = _WORD.findall(text)
    if len(words) <= size:
        return Counter([tuple(words)]) if words else Counter()
    return Counter(tuple(words[i : i + size]) for i in range(len(words) - size + 1))


@dataclass(frozen=True, slots=True)
class Overlap:
    """One page's shingle counts, scaled to sum to 1 (all 0 when both texts are empty)."""

    tp: float
    fp: float
    fn: float

    @classmethod
    def of(cls, truth: str, predicted: str) -> Overlap:
        expected, found = shingles(truth), shingles(predicted)
        tp = sum((expected & found).values())
        fp = sum((found - expected).values())
        fn = sum((expected - found).values())
        total = tp + fp + fn
        return cls(tp / total, fp / total, fn / total) if total else cls(0.0, 0.0, 0.0)

    @property
    def precision(self) -> float | None:
        """None when nothing was extracted (the page then counts for recall only)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        """None when the ground truth is empty."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float:
        p, r = self.precision or 0.0, self.recall or 0.0
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True, slots=True)
class Score:
    precision: float
    recall: float
    f1: float


def score(pages: Iterable[Overlap]) -> Score:
    """Macro-averaged precision and recall over pages, and F1 of the two averages."""
    found = list(pages)
    precisions = [p for o in found if (p := o.precision) is not None]
    recalls = [r for o in found if (r := o.recall) is not None]
    precision = statistics.fmean(precisions) if precisions else 0.0
    recall = statistics.fmean(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(precision, recall, f1)


def bootstrap_ci(pages: Sequence[Overlap], rounds: int, seed: int = 0) -> float:
    """Half-width of the 95 % interval of F1: 1.96 × its standard deviation over resamples."""
    if rounds < 2 or len(pages) < 2:
        return 0.0
    rng = random.Random(seed)
    values = [score(rng.choices(pages, k=len(pages))).f1 for _ in range(rounds)]
    return 1.96 * statistics.stdev(values)


def bootstrap_difference(
    a: Sequence[Overlap], b: Sequence[Overlap], rounds: int, seed: int = 0
) -> tuple[float, float]:
    """Mean and 95 % half-width of F1(a) − F1(b) over paired resamples of the same pages."""
    if rounds < 2 or len(a) < 2:
        return score(a).f1 - score(b).f1, 0.0
    rng = random.Random(seed)
    indices = range(len(a))
    diffs = []
    for _ in range(rounds):
        picked = rng.choices(indices, k=len(a))
        diffs.append(score(a[i] for i in picked).f1 - score(b[i] for i in picked).f1)
    return statistics.fmean(diffs), 1.96 * statistics.stdev(diffs)


# --- option sets --------------------------------------------------------------------------


def _shipped(html: bytes, url: str) -> str:
    found = extract_page(html, url)
    return found.text if found is not None else ""


def _bare(*, pass_url: bool = True, **options: Any) -> Extraction:
    """bare_extraction with the shipped options updated by `options`; the body text only, as
    extract_page keeps it."""
    merged = {**SHIPPED_OPTIONS, **options}

    def run(html: bytes, url: str) -> str:
        doc = trafilatura.bare_extraction(html, url=url if pass_url else None, **merged)
        text = getattr(doc, "text", None)
        return text if isinstance(text, str) else ""

    return run


def _extract(*, decode: bool = False, **options: Any) -> Extraction:
    """trafilatura.extract with `options` (its defaults otherwise), without the URL; with
    `decode` the page is given as UTF-8 text, as the benchmark's own runner does."""

    def run(html: bytes, url: str) -> str:
        page: bytes | str = html.decode("utf-8", errors="replace") if decode else html
        return trafilatura.extract(page, **options) or ""

    return run


@dataclass(frozen=True, slots=True)
class OptionSet:
    name: str
    call: str  # what is run, for the table and the JSON
    run: Extraction
    drop_in: bool  # keeps the metadata extract_page returns: could replace the shipped options


def _variant(name: str, note: str, **options: Any) -> OptionSet:
    """The shipped options with `options` changed, through bare_extraction."""
    return OptionSet(name, f"bare_extraction(shipped options, {note})", _bare(**options), True)


def _reference(name: str, call: str, run: Extraction) -> OptionSet:
    return OptionSet(name, call, run, drop_in=False)


# htmldate's quick search only: the page date is a fallback for feeds that give none
QUICK_DATES = {"original_date": True, "extensive_search": False}


def option_sets() -> list[OptionSet]:
    """Every option set this benchmark knows, the shipped one first."""
    return [
        OptionSet(SHIPPED, "monitor.ingest.worker.extract_page(html, url)", _shipped, True),
        _variant(BASE, "url"),
        _variant("ship-fast", "fast=False (shipped before 2026-12-03)", fast=False),
        _variant(
            "ship+precision",
            "favor_precision=True instead of favor_recall",
            favor_precision=True,
            favor_recall=False,
        ),
        _variant(
            "ship-recall",
            "favor_recall=False (shipped before 2026-12-03, third round)",
            favor_recall=False,
        ),
        _variant(
            "ship-fast+precision",
            "fast=False, favor_precision=True instead of favor_recall",
            fast=False,
            favor_precision=True,
            favor_recall=False,
        ),
        _variant("ship-tables", "include_tables=False", include_tables=False),
        _variant("ship-url", "url=None", pass_url=False),
        _variant("ship+dedup", "deduplicate=True", deduplicate=True),
        _variant(
            "ship+prune",
            "prune_xpath=figure|figcaption|aside",
            prune_xpath=["//figure", "//figcaption", "//aside"],
        ),
        _variant(
            "ship-datesearch", "extensive date search off", date_extraction_params=QUICK_DATES
        ),
        _variant(
            "ship+precision-datesearch",
            "favor_precision=True instead of favor_recall, extensive date search off",
            favor_precision=True,
            favor_recall=False,
            date_extraction_params=QUICK_DATES,
        ),
        _reference(
            "ship-metadata",
            "bare_extraction(shipped, with_metadata=False)",
            _bare(with_metadata=False),
        ),
        _reference("default", "extract(html)", _extract()),
        _reference(
            "benchmark-call",
            "extract(html.decode(), include_comments=False)",
            _extract(decode=True, include_comments=False),
        ),
        _reference("fast", "extract(html, fast=True)", _extract(fast=True)),
        _reference(
            "precision", "extract(html, favor_precision=True)", _extract(favor_precision=True)
        ),
        _reference("recall", "extract(html, favor_recall=True)", _extract(favor_recall=True)),
        _reference(
            "markdown",
            "extract(html, output_format='markdown', include_comments=False)",
            _extract(output_format="markdown", include_comments=False),
        ),
    ]


def choose(names: str | None) -> list[OptionSet]:
    """The option sets named (comma-separated; all when None), always with the shipped one and
    its base, which the others are compared with."""
    known = option_sets()
    if not names or names == "all":
        return known
    wanted = {n.strip() for n in names.split(",") if n.strip()} | {SHIPPED, BASE}
    unknown = wanted - {o.name for o in known}
    if unknown:
        raise SystemExit(f"unknown option sets: {', '.join(sorted(unknown))}")
    return [o for o in known if o.name in wanted]


# --- the run ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    key: str  # the file hash that keys ground-truth.json
    url: str
    html: bytes
    truth: str


@dataclass
class Outcome:
    """What one option set did on every page, in page order: the scores and texts of the first
    pass and the CPU ms of every pass."""

    overlaps: list[Overlap] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    runs: list[list[float]] = field(default_factory=list)  # per page, one value per pass
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def cpu(self) -> list[float]:
        """Per page, the median CPU ms over passes (NaN where every call failed)."""
        return [statistics.median(r) if r else math.nan for r in self.runs]


def load_pages(limit: int | None) -> list[Page]:
    """The benchmark pages that have ground truth, in file order; empty without the corpus."""
    if not GROUND_TRUTH.is_file():
        return []
    truth = json.loads(GROUND_TRUTH.read_text(encoding="utf-8"))
    pages = [
        Page(name, truth[name].get("url") or "", html, truth[name].get("articleBody") or "")
        for name, html in corpus_pages()
        if name in truth
    ]
    return pages[:limit] if limit else pages


def _timed(option: OptionSet, page: Page, outcome: Outcome) -> tuple[str, float | None]:
    """The text and CPU ms of one call; ("", None) when it raised (the page then scores 0)."""
    box: list[str] = []
    try:
        spent = cpu_ms(lambda: box.append(option.run(page.html, page.url)))
    except Exception as exc:  # noqa: BLE001  (a page that breaks an option set is kept, scored 0)
        outcome.errors[page.key] = "".join(traceback.format_exception_only(exc)).strip()
        return "", None
    return box[0], spent


def measure(
    options: list[OptionSet], pages: list[Page], passes: int = 1, warmup: int = 2
) -> dict[str, Outcome]:
    """Every page through every option set back to back, the order rotating by one from page to
    page and from pass to pass, after an untimed warm-up on the first pages (imports, stop
    lists). trafilatura's caches are kept between calls, as a worker keeps them; only the
    deduplication memory is emptied before each pass."""
    for page in pages[:warmup]:
        for option in options:
            option.run(page.html, page.url)
    outcomes = {o.name: Outcome(runs=[[] for _ in pages]) for o in options}
    for turn in range(passes):
        LRU_TEST.clear()
        for number, page in enumerate(pages):
            shift = (number + turn) % len(options)
            for option in options[shift:] + options[:shift]:
                got = outcomes[option.name]
                text, spent = _timed(option, page, got)
                if spent is not None:
                    got.runs[number].append(spent)
                if turn == 0:
                    got.texts.append(text)
                    got.overlaps.append(Overlap.of(page.truth, text))
    return outcomes


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(v for v in values if not math.isnan(v))  # failed calls left out
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def paired_ratio(cpu: Sequence[float], base: Sequence[float]) -> float:
    """Median over pages of this option set's CPU ÷ the base's on the same page."""
    pairs = zip(cpu, base, strict=True)
    ratios = [a / b for a, b in pairs if not math.isnan(a) and not math.isnan(b) and b > 0]
    return statistics.median(ratios) if ratios else float("nan")


def summarise(
    options: list[OptionSet], outcomes: dict[str, Outcome], rounds: int
) -> dict[str, dict[str, Any]]:
    """Per option set: the scores, the bootstrap interval and the CPU figures."""
    base = outcomes[BASE]
    table: dict[str, dict[str, Any]] = {}
    for option in options:
        got = outcomes[option.name]
        total = score(got.overlaps)
        table[option.name] = {
            "call": option.call,
            "drop_in": option.drop_in,
            "precision": total.precision,
            "recall": total.recall,
            "f1": total.f1,
            "f1_ci": bootstrap_ci(got.overlaps, rounds),
            "cpu_ms_median": percentile(got.cpu, 0.5),
            "cpu_ms_p10": percentile(got.cpu, 0.1),
            "cpu_ms_p90": percentile(got.cpu, 0.9),
            "cpu_ms_mean": statistics.fmean(c for c in got.cpu if not math.isnan(c)),
            "cpu_vs_base": paired_ratio(got.cpu, base.cpu),
            "pages_differing_from_base": _differing(got, base),
            "empty_pages": sum(not t.strip() for t in got.texts),
            "errors": got.errors,
        }
    return table


def _differing(a: Outcome, b: Outcome) -> int:
    """Pages on which two option sets score a different F1."""
    return sum(abs(x.f1 - y.f1) > 1e-9 for x, y in zip(a.overlaps, b.overlaps, strict=True))


def recommend(
    table: dict[str, dict[str, Any]], outcomes: dict[str, Outcome], rounds: int
) -> dict[str, Any]:
    """Among the drop-in option sets that cost no more CPU than the shipped options (median
    paired ratio ≤ 1), the one with the highest F1, the clearly cheaper one on a tie; the shipped
    options themselves when none has a higher F1 or the same F1 for less CPU. Also the
    cheapest drop-in set within 0.005 F1 of the shipped one, and the highest F1 at any cost."""
    shipped = table[BASE]["f1"]
    drop_in = [n for n, row in table.items() if row["drop_in"] and n != SHIPPED]
    affordable = [n for n in drop_in if table[n]["cpu_vs_base"] <= 1.0]
    best = max(  # CPU ratios within 0.05 tie (noise): the first listed, simplest set wins
        affordable,
        key=lambda n: (round(table[n]["f1"], 4), -round(table[n]["cpu_vs_base"] * 20)),
        default=BASE,
    )
    mean, half = bootstrap_difference(outcomes[best].overlaps, outcomes[BASE].overlaps, rounds)
    close = [n for n in drop_in if table[n]["f1"] >= shipped - F1_TOLERANCE]
    cheapest = min(close, key=lambda n: table[n]["cpu_vs_base"], default=BASE)
    top = max(table, key=lambda n: table[n]["f1"])
    return {
        "option_set": best,
        "call": table[best]["call"],
        "verdict": _verdict(table[best]["f1"] - shipped, table[best]["cpu_vs_base"]),
        "f1_gain": table[best]["f1"] - shipped,
        "f1_gain_bootstrap": {"mean": mean, "ci95": half, "significant": abs(mean) > half},
        "cpu_vs_shipped": table[best]["cpu_vs_base"],
        "pages_differing": _differing(outcomes[best], outcomes[BASE]),
        "cheapest_within_tolerance": {
            "option_set": cheapest,
            "f1_change": table[cheapest]["f1"] - shipped,
            "cpu_vs_shipped": table[cheapest]["cpu_vs_base"],
        },
        "highest_f1_any_cost": {
            "option_set": top,
            "f1": table[top]["f1"],
            "cpu_vs_shipped": table[top]["cpu_vs_base"],
            "pages_differing_from_recommended": _differing(outcomes[top], outcomes[best]),
            "f1_minus_recommended_bootstrap": dict(
                zip(
                    ("mean", "ci95"),
                    bootstrap_difference(outcomes[top].overlaps, outcomes[best].overlaps, rounds),
                    strict=True,
                )
            ),
        },
    }


def _verdict(gain: float, cpu: float) -> str:
    if round(gain, 4) > 0:
        return "higher F1 at no more CPU"
    if round(gain, 4) == 0 and cpu < 1.0:
        return "same F1 for less CPU"
    return "keep the shipped options: nothing beats them at their CPU"


def shipped_mismatches(outcomes: dict[str, Outcome], pages: list[Page]) -> list[str]:
    """Pages where extract_page and the shipped options copied here give different text:
    a sign that monitor/ingest/worker.py changed its options and SHIPPED_OPTIONS must follow."""
    shipped, base = outcomes[SHIPPED].texts, outcomes[BASE].texts
    return [p.key for p, a, b in zip(pages, shipped, base, strict=True) if a != b]


def _score_figure(name: str, value: float, ci: float, pages: int, target: bool) -> Figure:
    """A score in [0, 1] with its bootstrap interval as the spread; the note repeats it with
    three decimals, which the table's one-decimal column cannot show."""
    shown = f"{value:.3f} ± {ci:.3f}" if ci else f"{value:.3f}"
    return Figure(
        name,
        Spread(value, value - ci, value + ci, pages),
        "",
        f"≥ {F1_TARGET:.2f}" if target else None,
        value >= F1_TARGET if target else None,
        f"{shown} over {pages} pages" + (" (bootstrap 95 %)" if ci else ""),
    )


def figures(table: dict[str, dict[str, Any]], pick: dict[str, Any], pages: int) -> list[Figure]:
    """The suite's lines: the shipped options' F1 (the headline), precision, recall and CPU,
    and the recommended option set's F1 and CPU ratio."""
    ship, best = table[SHIPPED], table[pick["option_set"]]
    cpu = Spread(ship["cpu_ms_median"], ship["cpu_ms_p10"], ship["cpu_ms_p90"], pages)
    ratio = pick["cpu_vs_shipped"]
    return [
        _score_figure("extraction F1 (shipped options)", ship["f1"], ship["f1_ci"], pages, True),
        _score_figure("extraction precision (shipped)", ship["precision"], 0.0, pages, False),
        _score_figure("extraction recall (shipped)", ship["recall"], 0.0, pages, False),
        Figure(
            "extraction CPU per page (shipped)",
            cpu,
            "ms",
            note=f"median [p10–p90], p90 {ship['cpu_ms_p90']:.1f} ms; with the MinHash signature",
        ),
        _score_figure(
            f"extraction F1 (recommended: {pick['option_set']})",
            best["f1"],
            best["f1_ci"],
            pages,
            True,
        ),
        Figure(
            f"extraction CPU {pick['option_set']} ÷ {BASE}",
            Spread(ratio, ratio, ratio, pages),
            "×",
            "≤ 1",
            ratio <= 1.0,
            f"{ratio:.2f}, median of per-page ratios",
        ),
    ]


def run(options: argparse.Namespace) -> dict[str, Any]:
    """Measure the option sets on the benchmark pages; empty figures without the corpus."""
    limit = getattr(options, "pages", None) or (
        QUICK_PAGES if getattr(options, "quick", False) else None
    )
    pages = load_pages(limit)
    if not pages:
        print(f"quality: no extraction benchmark at {GROUND_TRUTH.parent}; nothing measured")
        return {"name": "quality", "figures": [], "details": {"corpus": None}}
    chosen = choose(getattr(options, "modes", None))
    rounds = getattr(options, "bootstrap", BOOTSTRAP)
    passes = getattr(options, "passes", None) or (1 if getattr(options, "quick", False) else PASSES)
    outcomes = measure(chosen, pages, passes)
    table = summarise(chosen, outcomes, rounds)
    pick = recommend(table, outcomes, rounds)
    return {
        "name": "quality",
        "figures": [f.as_dict() for f in figures(table, pick, len(pages))],
        "details": {
            "corpus": str(GROUND_TRUTH.parent),
            "pages": len(pages),
            "passes": passes,
            "metric": f"{SHINGLE}-word shingles, macro-averaged P and R, F1 of the averages",
            "bootstrap_rounds": rounds,
            "shipped_options": SHIPPED_OPTIONS,
            "shipped_text_mismatches": shipped_mismatches(outcomes, pages),
            "recommendation": pick,
            "option_sets": table,
            "per_page": per_page(pages, outcomes),
        },
    }


def per_page(pages: list[Page], outcomes: dict[str, Outcome]) -> dict[str, Any]:
    return {
        page.key: {
            name: {
                "precision": got.overlaps[i].precision,
                "recall": got.overlaps[i].recall,
                "f1": got.overlaps[i].f1,
                "cpu_ms": got.cpu[i],
            }
            for name, got in outcomes.items()
        }
        for i, page in enumerate(pages)
    }


# --- output -------------------------------------------------------------------------------


def print_table(details: dict[str, Any]) -> None:
    """One line per option set, then the recommendation."""
    table: dict[str, dict[str, Any]] = details["option_sets"]
    width = max(len(n) for n in table)
    print(
        f"\n{details['pages']} pages, {details['passes']} passes; CPU ms per page (median over "
        f"passes); × = median per-page ratio to {BASE}; diff = pages scoring unlike {BASE}"
    )
    print(
        f"{'option set':<{width}}  {'P':>5}  {'R':>5}  {'F1':>5} {'±':>5}  {'median':>6}  "
        f"{'p90':>6}  {'×':>5}  {'diff':>4}  {'empty':>5}  drop-in"
    )
    for name, row in table.items():
        print(
            f"{name:<{width}}  {row['precision']:.3f}  {row['recall']:.3f}  {row['f1']:.3f} "
            f"{row['f1_ci']:.3f}  {row['cpu_ms_median']:6.1f}  {row['cpu_ms_p90']:6.1f}  "
            f"{row['cpu_vs_base']:5.2f}  {row['pages_differing_from_base']:4d}  "
            f"{row['empty_pages']:5d}  {'yes' if row['drop_in'] else 'no'}"
        )
    print("\ncalls:")
    for name, row in table.items():
        print(f"  {name:<{width}}  {row['call']}")
    print_recommendation(details)


def print_recommendation(details: dict[str, Any]) -> None:
    pick = details["recommendation"]
    gain = pick["f1_gain_bootstrap"]
    print(f"\nrecommended: {pick['option_set']} = {pick['call']} ({pick['verdict']})")
    print(
        f"  F1 {pick['f1_gain']:+.4f} vs shipped (paired bootstrap {gain['mean']:+.4f} ± "
        f"{gain['ci95']:.4f}, {'' if gain['significant'] else 'not '}significant), "
        f"CPU × {pick['cpu_vs_shipped']:.2f}, "
        f"{pick['pages_differing']} pages score differently"
    )
    cheap = pick["cheapest_within_tolerance"]
    print(
        f"cheapest drop-in within {F1_TOLERANCE} F1: {cheap['option_set']} "
        f"(F1 {cheap['f1_change']:+.4f}, CPU × {cheap['cpu_vs_shipped']:.2f})"
    )
    top = pick["highest_f1_any_cost"]
    diff = top["f1_minus_recommended_bootstrap"]
    print(
        f"highest F1 at any cost: {top['option_set']} (F1 {top['f1']:.4f}, CPU × "
        f"{top['cpu_vs_shipped']:.2f}; vs recommended {diff['mean']:+.4f} ± {diff['ci95']:.4f}, "
        f"{top['pages_differing_from_recommended']} pages differ)"
    )
    if details["shipped_text_mismatches"]:
        print(
            f"WARNING: {BASE} differs from extract_page on "
            f"{len(details['shipped_text_mismatches'])} pages: update SHIPPED_OPTIONS"
        )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help=f"the first {QUICK_PAGES} pages")
    parser.add_argument("--pages", type=int, default=None, help="the first N pages")
    parser.add_argument(
        "--modes",
        default=None,
        help=f"comma-separated option sets ({SHIPPED} and {BASE} always run); default: all",
    )
    parser.add_argument(
        "--passes", type=int, default=None, help=f"passes over the pages (default {PASSES})"
    )
    parser.add_argument(
        "--bootstrap", type=int, default=BOOTSTRAP, help="bootstrap resamples for the ±"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_arguments(parser)
    parser.add_argument("--output", type=Path, default=None, help="JSON results file")
    args = parser.parse_args()
    result = run(args)

    def table(found: dict[str, Any]) -> None:
        if found["figures"]:
            print_table(found["details"])

    report("quality", "extraction quality", result, args.output, table)


if __name__ == "__main__":
    main()
