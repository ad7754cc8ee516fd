"""Suggestions for a profile from readers' feedback: exclusions (`AND NOT …`) that would drop
the hits readers marked not relevant, and additions (`OR …`) that would catch the articles
they say it missed. Nothing here changes a profile: a person reads a suggestion, with its
evidence, and takes it into the editor or not.

An exclusion is a phrase (phrases.py) that the not-relevant hits share and the relevant
ones lack: counted in every not-relevant hit the profile still matches, looked for in the
relevant ones as the matcher would find it, ranked by how many not-relevant hits hold it and
in how many it stands near what matched (the false sense of a matched term is what a person
excludes), less for every relevant hit that holds it. The best are then checked the only way
that counts: the profile's query with the fragment added is parsed and matched again over
the labelled hits holding the phrase, and the suggestion states which not-relevant hits it
removes and which relevant ones it would lose. Beside that list, each not-relevant hit gets
its own: the phrases that set its page apart (distinctive.py), checked the same way, where
one may lose a relevant hit (shown: the person reading that hit decides). An addition is a
phrase the missed articles share, rarely found in not-relevant hits, checked the same way on
the missed articles.

What the whole archive would gain or lose is the backtest's to say: `suggestions` takes it
as a function (`effect`), which the web face builds from monitor.archive.backtest, since the
workbench and the archive do not import each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from monitor.profiles.evaluate import FoldedField
from monitor.profiles.matcher import Matcher, folded_fields, outcome
from monitor.profiles.nodes import positive_leaves
from monitor.profiles.profile import Doc, Profile
from monitor.profiles.reasons import evidence
from monitor.workbench.distinctive import LENGTH, distinct, own_weight, pool_phrases
from monitor.workbench.phrases import Found, OwnTerms, Tally, own_terms, phrases
from monitor.workbench.variants import Checker, Kind, fragment, present

LIMIT = 10  # suggestions of each kind returned
CHECKED = 40  # candidates of each kind checked by matching again, best first
PER_TEXT = 3  # ... and the best candidates of each text, checked whatever their rank
# suggestions kept for the same texts: the wording a person would choose is often the second
ALTERNATIVES = 3
# per not-relevant hit, the phrases that set it apart: pooled, checked, and kept for the page
PER_HIT_CHECKED, PER_HIT = 12, 6
OWN_LOST = 1  # ... each of which may lose this many relevant hits (the page shows which)
LOST_SHARE = 0.2  # an exclusion may lose at most this share of what it removes
GENERIC = 0.3  # an addition found in more of the labelled hits than this is too broad


@dataclass(frozen=True, slots=True)
class Labelled:
    """A hit a reader judged: its article's text and the verdict. `key` is the hit's id."""

    key: int
    title: str
    text: str
    language: str | None
    relevant: bool
    url: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class Missed:
    """An article a reader says the profile should have matched. `key` is its id."""

    key: int
    title: str
    text: str
    language: str | None
    url: str = ""


@dataclass(frozen=True, slots=True)
class Effect:
    """What the backtest says the suggested query would do to the stored hits since `since`:
    articles it would remove and add, beyond what the profile as it is would."""

    removed: int
    added: int
    since: datetime | None


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One proposed change: the fragment to add to the query, the whole query it makes, and
    its evidence among the labelled hits (for an addition: the missed articles it catches)."""

    kind: Kind
    phrase: str
    fragment: str
    query: str
    false_positives: tuple[int, ...] = ()  # not-relevant hits it removes
    relevant_lost: tuple[int, ...] = ()  # relevant hits it removes too
    missed: tuple[int, ...] = ()  # missed articles it would match
    near: int = 0  # of those, how many hold the phrase near what the profile found
    score: float = 0.0
    effect: Effect | None = None


@dataclass(frozen=True, slots=True)
class HitAdvice:
    """The exclusions that remove one hit judged not relevant, the phrases most its own
    first: what sets its page apart from the other judged hits."""

    key: int
    title: str
    url: str
    items: tuple[Suggestion, ...]


@dataclass(frozen=True, slots=True)
class Suggestions:
    """A profile's feedback in figures and the suggestions drawn from it."""

    profile: str
    relevant: int  # hits judged relevant
    not_relevant: int  # hits judged not relevant
    unmatched: tuple[int, ...]  # judged hits the profile as it is no longer matches
    items: tuple[Suggestion, ...]
    by_hit: tuple[HitAdvice, ...] = ()  # per hit judged not relevant that some remove

    @property
    def precision(self) -> float | None:
        judged = self.relevant + self.not_relevant
        return self.relevant / judged if judged else None


@dataclass
class _Text:
    """A labelled hit or a missed article, folded once, with what the profile finds in it."""

    key: int
    relevant: bool
    doc: Doc
    fields: dict[str, FoldedField]
    matched: bool = False
    spans: dict[str, list[tuple[int, int]]] | None = None  # per field: what the profile found

    def phrases(self, own: OwnTerms) -> dict[str, Found]:
        merged: dict[str, Found] = {}
        for name, field in self.fields.items():
            near = (self.spans or {}).get(name, [])
            for phrase, found in phrases(field, near, own, names=name != "title").items():
                seen = merged.setdefault(phrase, Found(size=found.size))
                seen.count += found.count
                seen.near = seen.near or found.near
                seen.name = seen.name or found.name
        return merged


def suggest(
    profile: Profile,
    labelled: Iterable[Labelled],
    missed: Iterable[Missed] = (),
    *,
    concepts: Mapping[str, tuple[str, ...]] | None = None,
    limit: int = LIMIT,
) -> Suggestions:
    """Exclusions from the labelled hits and additions from the missed articles, each kind
    best first (at most `limit` of each). `concepts` are those the query's @names use."""
    profile = replace(profile, enabled=True)  # a disabled profile is still worth advice
    matcher = Matcher([profile])
    hits = [_read(matcher, profile, t.key, t.relevant, _doc(t)) for t in labelled]
    waiting = [_read(matcher, profile, m.key, True, _doc(m)) for m in missed]
    own = own_terms(profile.query)
    check = Checker(profile, concepts or {})
    excluded, by_hit = _exclusions(hits, own, check, limit)
    items = excluded + _additions(hits, waiting, own, check, limit)
    return Suggestions(
        profile=profile.name,
        relevant=sum(t.relevant for t in hits),
        not_relevant=sum(not t.relevant for t in hits),
        unmatched=tuple(t.key for t in hits if not t.matched),
        items=tuple(items),
        by_hit=by_hit,
    )


def _doc(item: Labelled | Missed) -> Doc:
    source = item.source if isinstance(item, Labelled) else ""
    return Doc(item.title, item.text, item.url, source, item.language)


def _read(matcher: Matcher, profile: Profile, key: int, relevant: bool, doc: Doc) -> _Text:
    """Match one text with the profile as it is; keep where the evidence stands (for a text
    it does not match: where its terms occur)."""
    fields = folded_fields(doc)
    evaluation = matcher.evaluation(profile, doc, fields)
    result = outcome(evaluation)
    if result.matched and evaluation.holds():
        found = [o for _, shown in evidence(evaluation)[1] for o in shown]
    else:
        found = [o for leaf in positive_leaves(profile.query) for o in evaluation.occurrences(leaf)]
    spans: dict[str, list[tuple[int, int]]] = {}
    for o in found:
        spans.setdefault(o.field, []).append((o.start, o.end))
    return _Text(key, relevant, doc, fields, result.matched, spans)


def _exclusions(
    hits: list[_Text], own: OwnTerms, check: Checker, limit: int
) -> tuple[list[Suggestion], tuple[HitAdvice, ...]]:
    """The exclusions best first (at most `limit`), and per not-relevant hit those that
    remove it, the phrases most its own first (at most PER_HIT)."""
    wrong = [t for t in hits if t.matched and not t.relevant]
    right = [t for t in hits if t.matched and t.relevant]
    found = {t.key: t.phrases(own) for t in wrong}
    every = _tally_found(found)
    tallies = _shared(every)
    pools = pool_phrases(found, every)
    candidates = set(tallies) | {phrase for pool in pools.values() for phrase in pool}
    in_wrong, in_right = present(candidates, wrong), present(candidates, right)
    judged = len(wrong) + len(right)

    def allowed(phrase: str, own: bool = False) -> bool:
        held, kept = in_wrong.get(phrase, set()), in_right.get(phrase, set())
        return bool(held) and _bearable(len(kept), len(held), own)

    rough = [
        (_score(tally, in_wrong[phrase], len(in_right.get(phrase, ()))), phrase)
        for phrase, tally in tallies.items()
        if allowed(phrase)
    ]
    holding = {p: in_wrong.get(p, set()) | in_right.get(p, set()) for p in candidates}
    own_rank: dict[int, list[str]] = {}
    for key, pool in pools.items():
        mine = found[key]
        ranked = sorted(
            (p for p in pool if allowed(p, own=True)),
            key=lambda p: (-own_weight(mine[p], len(holding[p]), judged), p),
        )
        own_rank[key] = distinct(ranked, PER_HIT_CHECKED)
    wanted = dict.fromkeys(_chosen(rough, in_wrong))
    wanted.update(dict.fromkeys(p for ranked in own_rank.values() for p in ranked))
    chosen = check.variants("exclude", wanted)
    checked: dict[str, Suggestion] = {}
    for phrase, variant in chosen.items():
        held = holding[phrase]
        removed = [t for t in wrong + right if t.key in held and not check.matches(variant, t)]
        fps = tuple(sorted(t.key for t in removed if not t.relevant))
        lost = tuple(sorted(t.key for t in removed if t.relevant))
        if not fps or not _bearable(len(lost), len(fps), own=True):
            continue  # the learned check rescues them, or relevant hits go too
        tally = every[phrase]
        if not check.parses("exclude", phrase):
            continue
        checked[phrase] = Suggestion(
            "exclude",
            phrase,
            fragment("exclude", phrase),
            variant.query_text,
            false_positives=fps,
            relevant_lost=lost,
            near=len(tally.near & set(fps)),
            score=round(_score(tally, fps, len(lost)), 3),
        )
    shared = [
        item
        for phrase, item in checked.items()
        if phrase in tallies and _bearable(len(item.relevant_lost), len(item.false_positives))
    ]
    by_hit = [
        HitAdvice(
            t.key,
            t.doc.title,
            t.doc.url,
            _own(t.key, [checked[p] for p in own_rank[t.key] if p in checked]),
        )
        for t in sorted(wrong, key=lambda t: t.key)
    ]
    return _best(shared, limit, check), tuple(advice for advice in by_hit if advice.items)


def _bearable(lost: int, removed: int, own: bool = False) -> bool:
    """Whether an exclusion removing `removed` not-relevant hits may lose `lost` relevant
    ones: a LOST_SHARE of them; among a hit's own, OWN_LOST in any case (shown with the
    loss: the person reading that hit decides)."""
    return lost <= LOST_SHARE * removed or (own and lost <= OWN_LOST)


def _own(key: int, ranked: list[Suggestion]) -> tuple[Suggestion, ...]:
    """The checked exclusions of one hit that remove it, those losing no relevant hit first,
    one wording of each phrase (distinct): at most PER_HIT."""
    kept = sorted(
        (item for item in ranked if key in item.false_positives),
        key=lambda item: len(item.relevant_lost),  # stable: those losing nothing first
    )
    named = set(distinct((item.phrase for item in kept), PER_HIT, held=True))
    return tuple(item for item in kept if item.phrase in named)


def _additions(
    hits: list[_Text], waiting: list[_Text], own: OwnTerms, check: Checker, limit: int
) -> list[Suggestion]:
    waiting = [t for t in waiting if not t.matched]
    if not waiting:
        return []
    tallies = _tally(waiting, own)
    in_waiting = present(tallies, waiting)
    in_wrong = present(tallies, [t for t in hits if not t.relevant])
    in_hits = present(tallies, hits)
    rough: list[tuple[float, str]] = []
    for phrase, tally in tallies.items():
        if len(hits) >= 10 and len(in_hits.get(phrase, ())) > GENERIC * len(hits):
            continue  # said of every subject this profile meets: it would add the archive
        found = in_waiting.get(phrase, set())
        rough.append((_score(tally, found, len(in_wrong.get(phrase, ()))), phrase))
    chosen = check.variants("add", _chosen(rough, in_waiting))
    checked: list[Suggestion] = []
    for phrase, variant in chosen.items():
        holding = in_waiting.get(phrase, set())
        caught = tuple(
            sorted(t.key for t in waiting if t.key in holding and check.matches(variant, t))
        )
        if not caught:
            continue  # focus, the minimum score or a filter still turns them down
        tally = tallies[phrase]
        score = _score(tally, caught, len(in_wrong.get(phrase, ())))
        checked.append(
            Suggestion(
                "add",
                phrase,
                fragment("add", phrase),
                variant.query_text,
                missed=caught,
                near=len(tally.near & set(caught)),
                score=round(score, 3),
            )
        )
    return _best(checked, limit, check)


def _chosen(rough: list[tuple[float, str]], found: Mapping[str, set[int]]) -> list[str]:
    """The phrases worth matching again: the CHECKED best, and the PER_TEXT best of each
    text (each not-relevant hit, each missed article) so that every one has a chance."""
    ranked = [phrase for _, phrase in sorted(rough, key=lambda pair: (-pair[0], pair[1]))]
    chosen = dict.fromkeys(ranked[:CHECKED])
    taken: dict[int, int] = {}
    for phrase in ranked:
        for key in found.get(phrase, ()):
            if taken.get(key, 0) < PER_TEXT:
                taken[key] = taken.get(key, 0) + 1
                chosen[phrase] = None
    return list(chosen)


def _score(tally: Tally, keys: Iterable[int], against: int) -> float:
    """A phrase's weight in these texts (phrases.Tally), its length's factor, divided by
    1 + 3 for every text that speaks against it (relevant hits an exclusion would lose,
    not-relevant hits that hold an addition)."""
    return tally.weight(keys) * LENGTH.get(tally.size, 0.8) / (1 + 3 * against)


def _tally(texts: Iterable[_Text], own: OwnTerms) -> dict[str, Tally]:
    """The candidate phrases these texts share (_shared)."""
    return _shared(_tally_found({text.key: text.phrases(own) for text in texts}))


def _tally_found(found: Mapping[int, Mapping[str, Found]]) -> dict[str, Tally]:
    """Every phrase of these texts (by key), tallied over them."""
    tallies: dict[str, Tally] = {}
    for key, phrases_ in found.items():
        for phrase, seen in phrases_.items():
            tallies.setdefault(phrase, Tally()).add(key, seen)
    return tallies


def _shared(tallies: Mapping[str, Tally]) -> dict[str, Tally]:
    """The phrases worth ranking across texts: a phrase found once, in one text, must stand
    near what the profile found there (anything else said once on one page is chance; the
    page's own phrases are _pools' to find)."""
    return {p: t for p, t in tallies.items() if len(t.weights) > 1 or t.count > 1 or t.near}


def _best(checked: list[Suggestion], limit: int, check: Checker) -> list[Suggestion]:
    """Best first, without a suggestion that ALTERNATIVES ahead of it cover (each removes or
    catches at least the same texts and loses no more), and only queries that parse."""
    kept: list[Suggestion] = []
    for item in sorted(checked, key=lambda s: (-s.score, s.phrase)):
        covered = set(item.false_positives) | set(item.missed)
        ahead = sum(
            covered <= set(k.false_positives) | set(k.missed)
            and set(k.relevant_lost) <= set(item.relevant_lost)
            for k in kept
        )
        if ahead >= ALTERNATIVES:
            continue
        if check.parses(item.kind, item.phrase):
            kept.append(item)
        if len(kept) == limit:
            break
    return kept
