"""Suggestions measured on the public relevance corpus: do they name, for each hit readers
would mark not relevant, the exclusion a person would write?

A fresh SQLite database is seeded with every labelled text of the corpus as an article (the
body, an empty headline and the labelled language: as benchmarks/relevance.py matches them),
with the hits the shipped profiles make on it, and feedback on every hit from the labels
(relevant when the text is labelled relevant to that profile). Then, per profile, the
suggestions are drawn from that feedback exactly as `GET /api/v1/profiles/NAME/suggestions`
draws them (monitor.workbench.advice), and each hit judged not relevant (a false positive)
is listed with the best suggestion that removes it. Whether that suggestion is the exclusion
a person would write is a judgement: benchmarks/suggestions-judged.csv holds it, one row per
(profile, phrase) read in context, and the figure is the share of false positives whose
best suggestion was judged sensible (an unjudged one counts as not sensible and is listed).
The best suggestions of each profile are also backtested over the seeded archive, which
must remove exactly the hits the suggestion says it removes.

    .venv/bin/python -m benchmarks.suggestions              # the whole corpus, about 1 minute
    .venv/bin/python -m benchmarks.suggestions --split dev  # one half
    .venv/bin/python -m benchmarks.suggestions --quick      # two profiles
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from benchmarks.common import Figure, Spread, report
from benchmarks.labelled import Text, read_corpus
from benchmarks.relevance import DEFAULT_CONFIG, OWN_CORPUS, SENTENCE
from monitor.models import Article, Entry, FeedSpec
from monitor.profiles.files import current_concepts, load_profiles
from monitor.profiles.matcher import Matcher
from monitor.profiles.normalize import fold
from monitor.profiles.profile import Doc
from monitor.store import articles, feeds
from monitor.store.archive import hits_of_article
from monitor.store.engine import open_engine, upgrade
from monitor.store.feedback import give_feedback, precision
from monitor.web.suggest import backtest_effect
from monitor.workbench.advice import suggestions, variant
from monitor.workbench.suggestions import PER_HIT, Suggestion, Suggestions

JUDGED = Path(__file__).resolve().parent / "suggestions-judged.csv"
# per false positive, the exclusion a person maintaining the profile would write, or none
# (labelled blind to the suggestions)
PERSONS = Path(__file__).resolve().parent / "suggestions-persons.csv"
SHOWN = 10  # suggestions of each kind the API and the page show by default (LIMIT)
FEED = "https://relevance.corpus.invalid/feed"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
EVERY = 200  # suggestions asked for per profile: all that the checks keep
BACKTESTED = 3  # best suggestions per profile backtested over the seeded archive


@dataclass(frozen=True, slots=True)
class Seeded:
    """A stored hit: its profile, its snippet and the labelled text it was made on."""

    profile: str
    snippet: str
    text: Text


@dataclass(frozen=True, slots=True)
class Row:
    """One false positive and the best suggestion that removes it."""

    profile: str
    file: str
    hit_id: int
    snippet: str
    best: Suggestion | None
    judged: str  # "sensible", "not sensible", "unjudged", or "none" without a suggestion
    where: str  # the sentence of the text holding the phrase
    person: tuple[str, ...] = ()  # the exclusion a person would write (and an alternative)
    offered: int | None = None  # its rank among the exclusions offered (1 = first), if any
    own: int | None = None  # its rank among the hit's own exclusions (Suggestions.by_hit)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", type=Path, default=OWN_CORPUS, help="labelled folder")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="holds profiles/")
    parser.add_argument("--split", help="only this half: dev or held-out (default: both)")
    parser.add_argument("--profile", action="append", help="only this profile (repeat)")
    parser.add_argument("--quick", action="store_true", help="two profiles only")
    parser.add_argument("--output", type=Path, help="the JSON result file")
    parser.add_argument(
        "--keep", type=Path, help="keep the seeded SQLite archive at this path (a new file)"
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    texts, _ = read_corpus(args.corpus, default_split="all")
    texts = [t for t in texts if args.split in (None, t.split)]
    profiles = [p for p in load_profiles(args.config) if p.enabled]
    names = args.profile or [p.name for p in profiles]
    if args.quick:
        names = names[:2]
    verdicts = read_judged(JUDGED)
    persons = read_persons(PERSONS)
    with tempfile.TemporaryDirectory(prefix="bench-suggestions-") as folder:
        kept: Path | None = args.keep
        if kept is not None and kept.exists():
            raise SystemExit(f"{kept} exists: --keep makes a new archive, give another path")
        engine = open_engine(f"sqlite:///{kept or Path(folder) / 'monitor.db'}")
        upgrade(engine)
        started = time.perf_counter()
        by_hit = seed(engine, texts, Matcher(profiles))
        seeded = time.perf_counter() - started
        figures, rows, backtests, seconds = [], [], [], {}
        feedback = precision(engine)
        for name in names:
            started = time.perf_counter()
            found = suggestions(engine, args.config, name, limit=EVERY)
            seconds[name] = time.perf_counter() - started
            assert found is not None
            rows += false_positives(found, by_hit, name, verdicts, persons)
            backtests += check_backtests(engine, args.config, name, found.items[:BACKTESTED])
            judged = feedback.get(name)
            if judged and judged.value is not None:
                figures.append(_figure(f"precision {name} (feedback)", judged.value, judged.judged))
        engine.dispose()
    figures += coverage(rows, names)
    agree = sum(ok for *_, ok in backtests)
    figures.append(
        Figure(
            "backtest removes what the suggestion says",
            Spread(agree, agree, agree, 1),
            f"of {len(backtests)}",
            f"= {len(backtests)}",
            agree == len(backtests),
        )
    )
    return {
        "name": "suggestions",
        "figures": [f.as_dict() for f in figures],
        "texts": len(texts),
        "seed_seconds": round(seeded, 1),
        "suggest_seconds": {name: round(s, 2) for name, s in seconds.items()},
        "false_positives": [_row(r) for r in rows],
        "backtests": [
            {"profile": p, "fragment": f, "says": s, "backtest": b, "agrees": ok}
            for p, f, s, b, ok in backtests
        ],
    }


def seed(engine: Engine, texts: list[Text], matcher: Matcher) -> dict[int, Seeded]:
    """Every text stored as an article with the hits the profiles make on it, and feedback
    on each hit from the labels; the hits by id, with their profile and text."""
    feeds.sync_feeds(engine, [FeedSpec(FEED, name="Relevance corpus")], NOW)
    feed_id = feeds.feed_rows(engine)[FEED].id or 0
    by_hit: dict[int, Seeded] = {}
    for text in texts:
        url = f"https://relevance.corpus.invalid/{text.file}"
        doc = Doc("", text.body, url, "Relevance corpus", text.language or None)
        stored = articles.store_article(
            engine,
            feed_id=feed_id,
            entry=Entry(text.file, url, "", "", NOW),
            article=Article(url, "", text.body, language=doc.language, published_at=NOW),
            matches=matcher.match(doc),
            routes={},
            now=NOW,
        )
        for hit in hits_of_article(engine, stored.article_id):
            relevant = hit.profile in text.relevant
            give_feedback(engine, hit.id, relevant, "labels.csv", "benchmark", NOW)
            by_hit[hit.id] = Seeded(hit.profile, hit.snippet, text)
    return by_hit


def false_positives(
    found: Suggestions,
    by_hit: dict[int, Seeded],
    name: str,
    verdicts: dict[tuple[str, str], bool],
    persons: dict[tuple[str, str], tuple[str, ...]] | None = None,
) -> list[Row]:
    """Each hit of `name` judged not relevant, with the best suggestion removing it, and
    where the exclusion a person would write stands among the offered ones."""
    persons = persons or {}
    items = found.items
    exclusions = [item for item in items if item.kind == "exclude"]
    own_of = {advice.key: advice.items for advice in found.by_hit}
    rows = []
    for hit_id, seeded in sorted(by_hit.items(), key=lambda pair: pair[1].text.file):
        if seeded.profile != name or name in seeded.text.relevant:
            continue
        best = next((item for item in items if hit_id in item.false_positives), None)
        if best is None:
            judged, where = "none", ""
        else:
            verdict = verdicts.get((name, best.phrase))
            judged = {True: "sensible", False: "not sensible", None: "unjudged"}[verdict]
            where = sentence_with(seeded.text.body, best.phrase)
        person = persons.get((name, seeded.text.file), ())
        offered = next(
            (
                rank
                for rank, item in enumerate(exclusions, start=1)
                if hit_id in item.false_positives and any(same(item.phrase, p) for p in person)
            ),
            None,
        )
        own = next(
            (
                rank
                for rank, item in enumerate(own_of.get(hit_id, ()), start=1)
                if any(same(item.phrase, p) for p in person)
            ),
            None,
        )
        rows.append(
            Row(
                name,
                seeded.text.file,
                hit_id,
                seeded.snippet,
                best,
                judged,
                where,
                person,
                offered,
                own,
            )
        )
    return rows


def same(offered: str, written: str) -> bool:
    """Whether an offered phrase is the one a person wrote: equal once folded, or one holds
    the other as whole words ("next-generation firewall" for "next-generation"); a person's
    stem with * matches the words it starts."""
    a, b = fold(offered)[0].strip(), fold(written.rstrip("*"))[0].strip()
    if not a or not b:
        return False
    if written.endswith("*"):
        return any(word.startswith(b) for word in a.split()) or a.startswith(b)
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    return re.search(rf"(?<!\w){re.escape(short)}(?!\w)", long) is not None or (
        not short.isascii() and short in long  # Chinese: no spaces between words
    )


def sentence_with(body: str, phrase: str) -> str:
    """The first sentence of `body` that holds `phrase` once folded (shortened)."""
    for sentence in SENTENCE.findall(body):
        if phrase in fold(sentence)[0]:
            text = " ".join(sentence.split())
            return text if len(text) <= 200 else text[:199] + "…"
    return ""


def check_backtests(
    engine: Engine, config: Path, name: str, items: tuple[Suggestion, ...]
) -> list[tuple[str, str, int, int, bool]]:
    """Backtest each suggestion over the seeded archive: it must remove exactly the hits the
    suggestion says it removes (the stored hits are what the profile matches) and add none."""
    profile = next(p for p in load_profiles(config) if p.name == name)
    concepts = current_concepts(config)
    effect = backtest_effect(engine, None)
    out = []
    for item in items:
        result = effect(profile, variant(profile, item, concepts))
        says = len(item.false_positives) + len(item.relevant_lost) + len(item.missed)
        changed = result.removed + result.added
        out.append((name, item.fragment, says, changed, says == changed))
    return out


def coverage(rows: list[Row], names: list[str]) -> list[Figure]:
    """Per profile and overall: false positives some suggestion removes, and those whose
    best suggestion is the exclusion a person would write."""
    figures = []
    for name in [*names, "all"]:
        mine = [r for r in rows if name in ("all", r.profile)]
        if not mine:
            continue
        removed = sum(r.best is not None for r in mine)
        sensible = sum(r.judged == "sensible" for r in mine)
        figures.append(
            _figure(f"FPs some suggestion removes, {name}", removed / len(mine), len(mine))
        )
        figures.append(
            _figure(f"FPs with a sensible exclusion, {name}", sensible / len(mine), len(mine))
        )
        wanted = [r for r in mine if r.person]
        if wanted:  # the person's exclusion among those offered: any rank, and the first SHOWN
            anywhere = sum(r.offered is not None or r.own is not None for r in wanted)
            listed = sum(r.offered is not None for r in wanted)
            shown = sum(r.offered is not None and r.offered <= SHOWN for r in wanted)
            own = sum(r.own is not None for r in wanted)
            seen = sum(r.own is not None or (r.offered or SHOWN + 1) <= SHOWN for r in wanted)
            count = len(wanted)
            figures += [
                _figure(f"person's exclusion offered, {name}", anywhere / count, count),
                _figure(f"... in the list (any rank), {name}", listed / count, count),
                _figure(f"... in the list's first {SHOWN}, {name}", shown / count, count),
                _figure(f"... among the hit's own {PER_HIT}, {name}", own / count, count),
                _figure(f"... first {SHOWN} or hit's own, {name}", seen / count, count),
            ]
    return figures


def read_persons(path: Path) -> dict[tuple[str, str], tuple[str, ...]]:
    """(profile, file) -> the exclusion (and an alternative) a person would write; false
    positives for which the person would write none are left out."""
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {
            (row["profile"], row["file"]): tuple(
                p.strip() for p in (row["phrase"], row["alternative"]) if p.strip()
            )
            for row in csv.DictReader(fh)
            if row["decision"].strip() == "exclude"
        }


def _figure(label: str, value: float, count: int) -> Figure:
    return Figure(label, Spread(value, value, value, 1), f"of {count}")


def read_judged(path: Path) -> dict[tuple[str, str], bool]:
    """(profile, phrase) -> whether a person reading the texts would write that exclusion."""
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {
            (row["profile"], row["phrase"]): row["sensible"].strip() == "1"
            for row in csv.DictReader(fh)
        }


def details(result: dict[str, Any]) -> None:
    """Every false positive with its best suggestion, and the judgement."""
    print("\n== false positives and the best suggestion removing each ==")
    for row in result["false_positives"]:
        print(f"[{row['profile']}] {row['file']} (hit {row['hit_id']})")
        print(f"    matched: {_squeeze(row['snippet'])}")
        if row["fragment"] is None:
            print("    no suggestion removes it")
            continue
        print(
            f"    best: {row['fragment']}  removes {row['removes']} not relevant, loses "
            f"{row['loses']} relevant: {row['judged']}"
        )
        if row["where"]:
            print(f"    where: {row['where']}")
        if row["person"]:
            rank, own = row["offered"], row["own"]
            said = ", ".join(
                ([f"offered at rank {rank}"] if rank else [])
                + ([f"the hit's own no. {own}"] if own else [])
            )
            said = said or "NOT offered"
            print(f"    a person writes: {' / '.join(row['person'])}: {said}")
    print("\n== backtests over the seeded archive ==")
    for line in result["backtests"]:
        mark = "ok" if line["agrees"] else "DIFFERS"
        print(
            f"{line['profile']}: {line['fragment']}: says {line['says']}, backtest "
            f"{line['backtest']}: {mark}"
        )
    print(f"\nseeded {result['texts']} texts in {result['seed_seconds']} s; suggestions took")
    print("  " + ", ".join(f"{n} {s} s" for n, s in result["suggest_seconds"].items()))


def _row(row: Row) -> dict[str, Any]:
    best = row.best
    return {
        "profile": row.profile,
        "file": row.file,
        "hit_id": row.hit_id,
        "snippet": row.snippet,
        "fragment": best.fragment if best else None,
        "phrase": best.phrase if best else None,
        "removes": len(best.false_positives) if best else 0,
        "loses": len(best.relevant_lost) if best else 0,
        "judged": row.judged,
        "where": row.where,
        "person": list(row.person),
        "offered": row.offered,
        "own": row.own,
    }


def _squeeze(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= 220 else text[:219] + "…"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_arguments(parser)
    args = parser.parse_args(argv)
    result = run(args)
    report("suggestions", "suggestions from feedback", result, args.output, details)
    return 0


if __name__ == "__main__":
    sys.exit(main())
