"""Profile lint: what in a query that loads is known to go wrong in matching, with where it is
and what to do (`monitor profiles validate --lint`, and the web editor). Pure: a Profile in,
LintWarnings out; nothing read, nothing matched.

Four rules, each from what measurement on the labelled texts showed (docs/relevance.md, and
docs/profiles.md, "Lint"):

- `ambiguous-term`: a term that alone makes the query match (an OR branch reached without
  any AND or NEAR context; a concept's aliases count) and that also names another subject:
  the words of ambiguous.AMBIGUOUS, each below the profiles' 0.9 precision when bare. An
  exclusion beside it that names the word (`CAC … AND NOT "CAC 40"`) counts as handling it.
- `exclusion-language`: an AND whose exclusions (NOT …) hold words of fewer scripts than
  what they exclude from: the English exclusion of a bilingual clause lets the Chinese text
  with the same other sense through.
- `concept-language`: an OR of one clause per language (each clause's words in one script)
  where a concept (@NAME) occurs in the clauses of one script and in none of another's
  compound clauses, which have no word for it either (a word inside one of its aliases, or
  one holding an alias, stands for it; a lone term is a name and needs none). An OR with a
  clause that mixes scripts (翻墙 AND VPN) is an OR of topics, not of translations: the
  shipped profiles' large ORs are such, and there the rule stays silent.
- `near-window`: one NEAR/n that serves Chinese and word-spaced languages alike (a window of
  Chinese terms alone and one of English or Russian terms are both possible): the distance
  counts words, and each Chinese character is one (evaluate.py). On the labelled texts
  (`python -m benchmarks.lint_figures`) a sentence runs 17 words in English, 13 in Russian
  and 27–28 characters in Chinese (medians), and where the parts of a shipped NEAR clause occur
  in one sentence, 3 pairs in 4 stand within 4 words in English and Russian and within 6
  characters in Chinese: below NEAR/6 the Chinese terms get a window too short for their
  sentences. A NEAR of Chinese terms alone is taken as counted in characters (the shipped
  profiles use NEAR/2 for a phrase with 的 between its words), as is any window in English
  or Russian, NEAR/0 included, and any window inside an exclusion (a narrow one excludes
  less; it never loses a relevant text).

Warnings carry the line and column in the query text (as QueryWarning does) where the tokens
can be paired with the tree; a `match:` profile has none.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache

from monitor.profiles.ambiguous import AMBIGUOUS, Ambiguous
from monitor.profiles.nodes import And, Node, Not, Or, Proximity, Term
from monitor.profiles.normalize import fold_term, is_cjk
from monitor.profiles.places import is_slop, place_of, query_places
from monitor.profiles.profile import Profile
from monitor.profiles.querysyntax import QueryError

LATIN, CJK, CYRILLIC = "Latin", "CJK", "Cyrillic"
SCRIPT_NAMES = {
    LATIN: "English (Latin script)",
    CJK: "Chinese (CJK)",
    CYRILLIC: "Russian (Cyrillic)",
}
CJK_MIN_WINDOW = 6  # characters: 3 in 4 pairs of clause terms in one Chinese sentence (above)
CJK_PER_WORD = 27 / 17  # Chinese characters per English word, by median sentence length
SHOWN = 60  # characters of a clause quoted in a message
Found = tuple[str, Node, str]  # rule, the node it is about, message
_AT_START = frozenset({"concept-language"})  # rules pointing at a clause's start, not its NEAR


@dataclass(frozen=True, slots=True)
class LintWarning:
    """A part of a query that loads but is known to go wrong; `line` and `column` (1-based,
    in the query text) say where, when known."""

    rule: str
    message: str
    line: int | None = None
    column: int | None = None
    query: str = ""

    def caret(self) -> str:
        """The query line with a caret under the column ("" without a place)."""
        if self.line is None or self.column is None:
            return ""
        return QueryError(self.message, self.line, self.column, self.query).caret()


def lint(profile: Profile) -> list[LintWarning]:
    """Every warning about the profile's query, in the order of the query text.

    The parsed query already carries each concept's aliases (an Or with `concept` set), so
    the concepts need not be passed again."""
    places = query_places(profile.query, profile.query_text)
    found = [
        *_ambiguous_terms(profile.query),
        *_exclusion_languages(profile.query),
        *_concept_languages(profile.query),
        *_near_windows(profile.query),
    ]
    out = []
    for rule, node, message in found:
        line, column = place_of(node, places, start=rule in _AT_START) or (None, None)
        out.append(LintWarning(rule, message, line, column, profile.query_text))
    return sorted(out, key=lambda w: (w.line or 0, w.column or 0))


def describe(warning: LintWarning, where: str) -> str:
    """`where: lint[rule]: message` and the caret, as `profiles validate --lint` prints it
    (`where`: the file, with the line and column when known)."""
    caret = warning.caret()
    return f"{where}: lint[{warning.rule}]: {warning.message}" + (f"\n{caret}" if caret else "")


# --- scripts -------------------------------------------------------------------------------


def script_of(text: str) -> str | None:
    """The script a term is written in: CJK if it has a CJK character (等保2.0, 大V), else
    Cyrillic, else Latin; None for digits, signs and other scripts alone."""
    found = None
    for ch in text:
        if is_cjk(ch):
            return CJK
        if "\u0400" <= ch <= "\u052f":
            found = CYRILLIC
        elif found is None and unicodedata.name(ch, "").startswith("LATIN"):
            found = LATIN
    return found


def _names(scripts: set[str] | frozenset[str]) -> str:
    ordered = [SCRIPT_NAMES[s] for s in (LATIN, CJK, CYRILLIC) if s in scripts]
    return " and ".join(ordered)


def _positive(node: Node) -> Iterator[Node]:
    """The node and its descendants that are not under a NOT."""
    if isinstance(node, Not):
        return
    yield node
    if isinstance(node, And | Or | Proximity):
        for part in node.parts:
            yield from _positive(part)


def _written(node: Node) -> Iterator[Term]:
    """The terms the query writes itself (not a concept's aliases), not under a NOT."""
    if isinstance(node, Term):
        yield node
    elif isinstance(node, And | Or | Proximity) and not (isinstance(node, Or) and node.concept):
        for part in node.parts:
            yield from _written(part)


def _all(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node, And | Or | Proximity):
        for part in node.parts:
            yield from _all(part)
    elif isinstance(node, Not):
        yield from _all(node.part)


def _scripts(terms: Iterable[Term]) -> set[str]:
    return {s for t in terms if (s := script_of(t.text)) is not None}


def _own_scripts(node: Node) -> set[str]:
    """The scripts of the words a clause writes (an exclusion: all of them; any other clause:
    those not under a NOT), or of its concepts' aliases when it writes none (`@CAC NEAR/6
    @China`)."""
    inside = list(_all(node.part)) if isinstance(node, Not) else list(_positive(node))
    aliases = {id(p) for n in inside if isinstance(n, Or) and n.concept for p in n.parts}
    terms = [t for t in inside if isinstance(t, Term)]
    return _scripts(t for t in terms if id(t) not in aliases) or _scripts(terms)


def _short(node: Node) -> str:
    text = " ".join(node.source.split())
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


# --- ambiguous-term ------------------------------------------------------------------------


def _unconditional(
    node: Node, exclusions: tuple[Not, ...] = ()
) -> Iterator[tuple[Term, Node, tuple[Not, ...]]]:
    """Terms that alone make `node` hold, each with the node to point at (the term, or the
    @concept it comes from) and the exclusions of the ANDs on its way."""
    if isinstance(node, Term):
        yield node, node, exclusions
    elif isinstance(node, Or):
        for part in node.parts:
            for term, at, excl in _unconditional(part, exclusions):
                yield term, (node if node.concept else at), excl
    elif isinstance(node, And):
        positive = [p for p in node.parts if not isinstance(p, Not)]
        if len(positive) == 1:
            nots = tuple(p for p in node.parts if isinstance(p, Not))
            yield from _unconditional(positive[0], exclusions + nots)


def ambiguous_entry(term: Term) -> Ambiguous | None:
    """The listed word a query term is (or covers: `censor*` covers censorship)."""
    text = fold_term(term.text)
    for entry, word, stem in _listed():
        if stem:  # one word that starts so, not a phrase (Учжэньский саммит is a name)
            hit = " " not in text and (
                text.startswith(word) or (term.prefix and word.startswith(text))
            )
        else:
            plural = text in (word + "s", word + "es") and script_of(word) != CJK
            hit = text == word or plural or (term.prefix and word.startswith(text))
        if hit:
            return entry
    return None


@cache
def _listed() -> tuple[tuple[Ambiguous, str, bool], ...]:
    """Each listed word folded, and whether it is a stem (folded once, on first use)."""
    return tuple((e, fold_term(e.term.rstrip("*")), e.term.endswith("*")) for e in AMBIGUOUS)


def _excluded(entry: Ambiguous, exclusions: tuple[Not, ...]) -> bool:
    """Whether an exclusion names the word (`"CAC 40"`, `防火墙 NEAR/3 厂商`)."""
    word = fold_term(entry.term.rstrip("*"))
    if script_of(word) == CJK:
        pattern = re.compile(re.escape(word))
    else:
        pattern = re.compile(rf"(?<!\w){re.escape(word)}")
    return any(
        pattern.search(fold_term(t.text))
        for n in exclusions
        for t in _all(n)
        if isinstance(t, Term)
    )


def _ambiguous_terms(query: Node) -> Iterator[Found]:
    for term, at, exclusions in _unconditional(query):
        entry = ambiguous_entry(term)
        if entry is None or _excluded(entry, exclusions):
            continue
        through = f" (an alias of {at.source})" if isinstance(at, Or) else ""
        written = term.source or term.text
        shown = written if written.startswith('"') else f"'{written}'"
        yield (
            "ambiguous-term",
            at,
            f"{shown}{through} alone also matches {entry.clash}; {entry.advice}",
        )


# --- exclusion-language --------------------------------------------------------------------


def _exclusion_languages(query: Node) -> Iterator[Found]:
    for node in _positive(query):
        if not isinstance(node, And):
            continue
        nots = [p for p in node.parts if isinstance(p, Not)]
        kept = [p for p in node.parts if not isinstance(p, Not)]
        if not nots or not kept:
            continue
        covered = set().union(*(_own_scripts(n) for n in nots))
        wanted = set().union(*(_own_scripts(p) for p in kept))
        missing = wanted - covered
        if covered and missing:
            yield (
                "exclusion-language",
                nots[0],
                f"the exclusion {_short(nots[0])} has {_names(covered)} words only, but what "
                f"it guards also matches {_names(missing)} text, where the same other sense "
                f"is not excluded; add its {_names(missing)} words",
            )


# --- concept-language ----------------------------------------------------------------------


def _concept_languages(query: Node) -> Iterator[Found]:
    for node in _positive(query):
        if not isinstance(node, Or) or node.concept:
            continue
        clauses = [(part, _scripts(_written(part))) for part in node.parts]
        clauses = [(part, scripts) for part, scripts in clauses if scripts]
        if any(len(scripts) > 1 for _, scripts in clauses):
            continue  # clauses mixing scripts: an OR of topics, not one clause per language
        in_or = set().union(*(scripts for _, scripts in clauses)) if clauses else set()
        if len(in_or) < 2:
            continue
        for concept in _concepts_used(node):
            yield from _concept_missing(concept, clauses, in_or)


def _concepts_used(node: Or) -> list[Or]:
    """The concepts the OR's clauses use (the first use of each name)."""
    seen: dict[str, Or] = {}
    for part in node.parts:
        for n in _positive(part):
            if isinstance(n, Or) and n.concept and n is not part:
                seen.setdefault(n.concept, n)
    return list(seen.values())


def _concept_missing(
    concept: Or, clauses: list[tuple[Node, set[str]]], in_or: set[str]
) -> Iterator[Found]:
    aliases = [fold_term(t.text) for t in concept.parts if isinstance(t, Term)]
    present: set[str] = set()
    for part, scripts in clauses:
        if any(isinstance(n, Or) and n.concept == concept.concept for n in _positive(part)):
            present |= scripts
        else:
            present |= _scripts(t for t in _written(part) if _stands(t, aliases))
    possible = in_or & _scripts(t for t in concept.parts if isinstance(t, Term))
    # a lone term or phrase is a name or a word specific enough alone (ambiguous-term
    # checks the others): only compound clauses of a script need the concept
    compound = {s for part, scripts in clauses if not isinstance(part, Term) for s in scripts}
    missing = (possible & compound) - present
    if not present & possible or not missing:
        return
    first = next(p for p, scripts in clauses if scripts & missing and not isinstance(p, Term))
    yield (
        "concept-language",
        first,
        f"@{concept.concept} occurs in the {_names(present & possible)} clauses of this OR "
        f"but in none of its {_names(missing)} ones (first: {_short(first)}), which have no "
        f"word for it either; add @{concept.concept} or a {_names(missing)} word for it there",
    )


def _stands(term: Term, aliases: list[str]) -> bool:
    """Whether a written term stands for a concept: it is in one of its aliases (网信 in
    网信办) or holds one (中国防火墙 holds 中国), as whole words outside CJK."""
    text = fold_term(term.text)
    return any(_holds(alias, text) or _holds(text, alias) for alias in aliases)


def _holds(outer: str, inner: str) -> bool:
    if inner not in outer:  # settles most pairs, and cheaply
        return False
    if script_of(inner) == CJK:
        return True
    return re.search(rf"(?<!\w){re.escape(inner)}(?!\w)", outer) is not None


# --- near-window ---------------------------------------------------------------------------


def _near_windows(query: Node) -> Iterator[Found]:
    for node in _positive(query):
        if not isinstance(node, Proximity):
            continue
        slop = is_slop(node)
        written = node.distance if slop else node.distance // max(len(node.parts) - 1, 1)
        possible = _scripts(t for t in _all(node.parts[0]) if isinstance(t, Term))
        for part in node.parts[1:]:
            possible &= _scripts(t for t in _all(part) if isinstance(t, Term))
        if CJK not in possible or len(possible) < 2 or written >= CJK_MIN_WINDOW:
            continue
        what = f"~{written}" if slop else f"NEAR/{written}"
        others = _names(possible - {CJK})
        wider = max(CJK_MIN_WINDOW, math.ceil(written * CJK_PER_WORD))
        yield (
            "near-window",
            node,
            f"{what} serves {others} words and Chinese characters alike, and a Chinese "
            f"character counts as a word: between the Chinese terms it allows {written} "
            f"characters, about {written / CJK_PER_WORD:.1f} English words, where 3 in 4 pairs "
            f"of terms that belong together in a Chinese sentence stand within "
            f"{CJK_MIN_WINDOW}; give the Chinese terms a NEAR of their own: NEAR/{wider} holds "
            f"about what {what} holds in words",
        )
