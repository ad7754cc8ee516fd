"""Why a query holds: the terms that count for it, and the reasons that decided it, best first,
for the snippets to show.

Terms count when they made the query hold: clauses that failed, sit under NOT or lie outside
a NEAR's windows do not count. Among them, a query that holds is decided by
- a term or a regular expression: each of its occurrences;
- a NEAR: each stretch of text holding one occurrence of every part (shown together);
- an OR: every alternative that holds;
- an AND: its most specific part (parts equally specific decide together); the other parts
  are context, marked where a snippet shows them: `censor* NEAR/10 @China AND @Internet` is
  decided by censorship near China, not by the word "internet";
- NOT, url:, source: and lang: decide nothing.

Specificity is the length of a clause's terms in letters and digits (a CJK character counts
three: 防火长城 weighs about as much as "great firewall"): a term's own, the sum of a NEAR's
parts, an OR's least specific alternative that holds (a concept is as broad as the broadest
alias found), an AND's most specific part. A reason weighs the specificity of each term in
it, discounted by how often that term occurs in the article (÷ 1 + ln n): a phrase found twice
outranks a word found 27 times.
"""

from __future__ import annotations

import math
from functools import lru_cache
from operator import itemgetter

from monitor.profiles.evaluate import Evaluation, Occurrence
from monitor.profiles.nodes import And, Meta, Node, Not, Or, Proximity, Regex, Term
from monitor.profiles.normalize import is_cjk

CJK_LETTERS = 3  # what one Han, kana or Hangul character counts for
REGEX_LETTERS = 8  # a regular expression counts like an eight-letter word
_LOG = [0.0, *(math.log(n) for n in range(1, 64))]  # ln n for the usual counts

Reason = tuple[float, tuple[Occurrence, ...]]  # weight, and occurrences shown together
Counted = tuple[Term | Regex, list[Occurrence]]  # a term that counts, and where


def evidence(evaluation: Evaluation) -> tuple[list[Counted], list[Reason]]:
    """The terms that count for the query (with their occurrences, in query order) and the
    reasons it holds, best first (in query order among equals); both empty when it does not
    hold."""
    walk = _Walk(evaluation)
    if evaluation.holds():
        walk.visit(evaluation.profile.query, deciding=True)
    return walk.counted, sorted(walk.reasons, key=itemgetter(0), reverse=True)


class _Walk:
    """One pass over the query tree: the terms that count, and which of them decide."""

    def __init__(self, evaluation: Evaluation) -> None:
        self.evaluation = evaluation
        self.counted: list[Counted] = []
        self.reasons: list[Reason] = []

    def visit(self, node: Node, *, deciding: bool) -> None:
        evaluation = self.evaluation
        if isinstance(node, Term | Regex):
            found = evaluation.occurrences(node)
            if found:
                self.counted.append((node, found))
                if deciding:
                    weight = _weight(node, len(found))
                    self.reasons += [(weight, (o,)) for o in found]
        elif isinstance(node, Or):
            for part in evaluation.candidates(node):
                self.visit(part, deciding=deciding)
        elif isinstance(node, Not | Meta) or not evaluation.holds(node):
            return
        elif isinstance(node, Proximity):
            self._near(node, deciding=deciding)
        else:
            scored = [(specificity(evaluation, part), part) for part in node.parts]
            best = max(score for score, _ in scored)
            for score, part in scored:
                self.visit(part, deciding=deciding and score == best)

    def _near(self, node: Proximity, *, deciding: bool) -> None:
        """A NEAR counts the occurrences in its windows; each window is one reason."""
        windows = self.evaluation.near_windows(node)
        inside = {o for window in windows for o in window}
        weights: dict[Occurrence, float] = {}
        for part in node.parts:
            for leaf, found in self.evaluation.leaves_of(part):
                kept = [o for o in found if o in inside]
                self.counted.append((leaf, kept))
                weight = _weight(leaf, len(found))
                weights.update((o, weight) for o in kept)
        if deciding:
            self.reasons += [(sum(weights[o] for o in window), window) for window in windows]


def _weight(leaf: Term | Regex, count: int) -> float:
    """What one occurrence of a term found `count` times says: its specificity, less the
    more it occurs."""
    specific = letters(leaf.text) if isinstance(leaf, Term) else REGEX_LETTERS
    return specific / (1 + (_LOG[count] if count < len(_LOG) else math.log(count)))


def specificity(evaluation: Evaluation, node: Node) -> float:
    """How specific a clause that holds is (see the module docstring); 0 when it does not."""
    if isinstance(node, Not | Meta) or not evaluation.holds(node):
        return 0
    if isinstance(node, Term):
        return letters(node.text)
    if isinstance(node, Regex):
        return REGEX_LETTERS
    if isinstance(node, Proximity):
        return sum(specificity(evaluation, part) for part in node.parts)
    scores = [
        specificity(evaluation, part)
        for part in (evaluation.candidates(node) if isinstance(node, Or) else node.parts)
    ]
    if isinstance(node, And):
        return max(scores)
    return min((score for score in scores if score > 0), default=0)


@lru_cache(maxsize=65536)
def letters(text: str) -> int:
    """Letters and digits in a term, a CJK character counting CJK_LETTERS."""
    return sum(CJK_LETTERS if is_cjk(ch) else 1 for ch in text if ch.isalnum())
