"""The figures behind profile lint (monitor/profiles/lint.py and ambiguous.py), measured on the
labelled texts (benchmarks/corpus/relevance; how they are labelled: docs/relevance.md).

    .venv/bin/python -m benchmarks.lint_figures           # both tables
    .venv/bin/python -m benchmarks.lint_figures --check   # exit 1 when a listed word no
                                                          # longer meets the listing criterion

Words (`ambiguous-term`): each word of ambiguous.AMBIGUOUS, and the candidates measured and
left off, matched alone (as a one-term query) on every text: how many texts hold it, the
share of them relevant to the profile whose subject it names (its precision, bare), and how
many of them are hard negatives (texts chosen because they share a word but not the
subject: `NEG` in the file name or `HARD NEGATIVE` in the note). A word is listed when bare
it falls below the 0.9 precision the profiles are held to and a hard negative holds it.

Windows (`near-window`): sentence lengths per language in words as NEAR counts them (a CJK
character is a word; evaluate.FoldedField), and the distance between the parts of the
shipped profiles' NEAR clauses written in one script, where they occur in one sentence of a
text relevant to the clause's profile (the nearest pair, in other words between them; the
clause's own window is not applied, so what it would miss is counted too).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks.labelled import Text, read_corpus
from monitor.profiles.ambiguous import AMBIGUOUS, Ambiguous
from monitor.profiles.evaluate import FoldedField, Window
from monitor.profiles.files import load_profiles
from monitor.profiles.lint import CJK, CYRILLIC, LATIN, script_of
from monitor.profiles.matcher import Matcher, folded_fields
from monitor.profiles.nodes import Node, Or, Proximity, Term, walk
from monitor.profiles.profile import Doc, Profile
from monitor.profiles.query import parse_query

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "benchmarks" / "corpus" / "relevance"
CONFIG = REPO / "config"
PRECISION = 0.9  # what the profiles are held to (benchmarks/relevance.py)
SENTENCE = re.compile(r"[^.!?。！？;；\n]+[.!?。！？;；]?")
BREAK = re.compile(r"[.!?。！？;；\n]")
SCRIPT_OF_LANGUAGE = {"en": LATIN, "ru": CYRILLIC, "zh-Hans": CJK, "zh-Hant": CJK}
# Measured and left off (ambiguous.py says why): (word, the profile whose subject it names)
LEFT_OFF = (
    ("GFW", "great_firewall"),
    ("watchdog", "china_cyber_regulator"),
    ('"Lu Wei"', "china_cyber_regulator"),
    ("鲁炜", "china_cyber_regulator"),
    ('"Xu Lin"', "china_cyber_regulator"),
    ("徐麟", "china_cyber_regulator"),
    ("регулятор*", "china_cyber_regulator"),
    ("MLPS", "china_cybersecurity"),
    ("PIPL", "china_cybersecurity"),
    ('"critical information infrastructure"', "china_cybersecurity"),
)


@dataclass(frozen=True)
class WordFigure:
    """One word matched alone on the labelled texts."""

    word: str
    subject: str
    texts: int
    relevant: int
    hard_negatives: int

    @property
    def precision(self) -> float:
        return self.relevant / self.texts if self.texts else 0.0

    @property
    def ambiguous(self) -> bool:
        return self.texts > 0 and self.precision < PRECISION and self.hard_negatives > 0


def as_query(entry: Ambiguous) -> str:
    """A listed word as a query: words of a phrase in quotes."""
    return f'"{entry.term}"' if " " in entry.term else entry.term


def word_figures(texts: list[Text], words: list[tuple[str, str]]) -> list[WordFigure]:
    """(query, subject) pairs measured on `texts`."""
    profiles = [
        Profile(name=f"w{i}", version="", query=parse_query(q), min_score=0)
        for i, (q, _) in enumerate(words)
    ]
    matcher = Matcher(profiles)
    counts = [[0, 0, 0] for _ in words]
    for text in texts:
        doc = Doc("", text.body, language=text.language)
        hard = "NEG" in text.file.split("__") or "HARD NEGATIVE" in text.note
        for match in matcher.match(doc, folded_fields(doc)):
            i = int(match.profile[1:])
            counts[i][0] += 1
            counts[i][1] += words[i][1] in text.relevant
            counts[i][2] += hard
    return [
        WordFigure(q.strip('"'), subject, *c) for (q, subject), c in zip(words, counts, strict=True)
    ]


def sentence_lengths(texts: list[Text]) -> dict[str, list[int]]:
    """Words per sentence (three or more), by the language of the text."""
    out: dict[str, list[int]] = {}
    for text in texts:
        for sentence in SENTENCE.findall(text.body):
            folded = FoldedField.of(sentence)
            words = folded.token_at(len(folded.folded)) + 1 if folded.folded.strip() else 0
            if words >= 3:
                out.setdefault(text.language, []).append(words)
    return out


def _written_scripts(node: Node) -> set[str]:
    """Scripts of the terms a clause writes (not its concepts' aliases)."""
    aliases = {id(p) for n in walk(node) if isinstance(n, Or) and n.concept for p in n.parts}
    return {
        s
        for t in walk(node)
        if isinstance(t, Term) and id(t) not in aliases and (s := script_of(t.text))
    }


def clause_gaps(texts: list[Text], profiles: list[Profile]) -> dict[str, list[int]]:
    """Per script, the gap between the parts of the shipped one-script NEAR clauses found in
    one sentence of a text relevant to the clause's profile (the nearest such pair)."""
    clauses: list[tuple[Profile, str, str]] = []  # the clause as a profile, script, subject
    for profile in profiles:
        for node in walk(profile.query):
            scripts = _written_scripts(node) if isinstance(node, Proximity) else set()
            if isinstance(node, Proximity) and len(scripts) == 1:
                wide = Proximity(node.parts, 1000, node.source)  # find it whatever the window
                probe = Profile(name=f"c{len(clauses)}", version="", query=wide, min_score=0)
                clauses.append((probe, scripts.pop(), profile.name))
    matcher = Matcher(p for p, _, _ in clauses)
    gaps: dict[str, list[int]] = {}
    for text in texts:
        doc = Doc("", text.body, language=text.language)
        fields = folded_fields(doc)
        for probe, script, subject in clauses:
            if SCRIPT_OF_LANGUAGE.get(text.language) != script or subject not in text.relevant:
                continue
            evaluation = matcher.evaluation(probe, doc, fields)
            assert isinstance(probe.query, Proximity)
            windows = evaluation.near_windows(probe.query)
            found = [_gap(evaluation.fields[w[0].field], w) for w in windows]
            in_sentence = [g for g in found if g is not None]
            if in_sentence:
                gaps.setdefault(script, []).append(min(in_sentence))
    return gaps


def _gap(field: FoldedField, window: Window) -> int | None:
    """Other words between a window's parts; None when a sentence ends among them."""
    spans = [(o.start, o.end) for o in window]
    first, last = min(s for s, _ in spans), max(e for _, e in spans)
    if BREAK.search(field.folded[first:last]):
        return None
    words = [(field.token_at(s), field.token_at(e - 1)) for s, e in spans]
    covered = len({t for s, e in words for t in range(s, e + 1)})
    return (max(e for _, e in words) - min(s for s, _ in words) + 1) - covered


def _quantile(values: list[int], share: float) -> int:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * share), len(ordered) - 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="a labelled folder")
    parser.add_argument("--check", action="store_true", help="exit 1 if a listed word fails")
    args = parser.parse_args(argv)
    texts, _ = read_corpus(args.corpus, "dev")
    listed = [(as_query(e), e.subject) for e in AMBIGUOUS]
    figures = word_figures(texts, listed + list(LEFT_OFF))
    print(f"# words alone on {len(texts)} labelled texts ({args.corpus})")
    print(f"{'word':<40} {'texts':>5} {'precision':>9} {'hard neg.':>9}  listed")
    failing = []
    for i, f in enumerate(figures):
        on_list = i < len(listed)
        print(
            f"{f.word:<40} {f.texts:>5} {f.precision:>9.2f} {f.hard_negatives:>9}  "
            f"{'yes' if on_list else 'no'}{'' if f.ambiguous == on_list else '  (criterion!)'}"
        )
        if on_list and not f.ambiguous:
            failing.append(f.word)
    print("\n# sentence lengths in words (a CJK character is a word)")
    for language, lengths in sorted(sentence_lengths(texts).items()):
        print(
            f"{language:<8} sentences {len(lengths):>5}  median {statistics.median(lengths):>5g}"
            f"  mean {statistics.mean(lengths):>5.1f}"
        )
    print("\n# words between the parts of one-script NEAR clauses found in one sentence")
    for script, gaps in sorted(clause_gaps(texts, load_profiles(CONFIG)).items()):
        print(
            f"{script:<8} pairs {len(gaps):>4}  median {statistics.median(gaps):>4g}  "
            f"3 in 4 within {_quantile(gaps, 0.75):>3}  9 in 10 within {_quantile(gaps, 0.9):>3}"
        )
    if args.check and failing:
        print(f"\nlisted but no longer ambiguous by the criterion: {', '.join(failing)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
