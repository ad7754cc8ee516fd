"""A draft profile from one document: its key phrases, the organisations and people it names
and the concepts of config/concepts.yaml it mentions, turned into a query and a profile file.

    draft = derive(title, text, "en", load_concepts(folder), name="wuzhen_2014")
    draft.query    # (@WIC OR @CAC OR "internet security" …) AND (@China OR @Internet)
    draft.yaml()   # a profile file that `monitor profiles validate` accepts, with comments

Pure: text in, draft out; no network, no database, no file. Key phrases come from
keyphrases.py (YAKE; jieba for Chinese), names from names.py; the Draft and its file are
draft.py's. Whether a concept, a phrase or a
name occurs is decided by the matcher itself (each is a one-clause profile), so what the draft
counts is what its query will find.

How the query is made, so that it is a starting point rather than a finished profile:

- A concept mentioned is an alternative of the query (@WIC OR @CAC …), unless it is broad:
  most of its aliases single everyday words (@China: China, Chinese, 中国 …; @Internet). Broad
  concepts are the context the alternatives need: `(…) AND (@China OR @Internet)`.
- A key phrase joins the alternatives unless a concept already holds it ("World Internet
  Conference" is @WIC), it occurs only inside names a concept holds, names a person or a
  title, is one everyday word (written in lower case in the text too; in Chinese, common in
  jieba's corpus), is a word a longer phrase of the query holds (算法 beside 算法备案), or
  occurs once. The QUERY_PHRASES best are taken.
- An organisation named at least twice joins them. People never do (a story names people the
  profile does not follow): they are listed for the reader to add.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

import regex

from monitor.profiles.draft import Candidate, Draft, Found, one_line, quoted, wrapped
from monitor.profiles.keyphrases import KeyPhrase, is_chinese, key_phrases
from monitor.profiles.matcher import Matcher
from monitor.profiles.names import TITLES, Name, names
from monitor.profiles.normalize import fold_term, is_cjk
from monitor.profiles.profile import Doc, Profile
from monitor.profiles.query import parse_query
from monitor.profiles.segment import idf

QUERY_PHRASES = 8  # key phrases the query takes at most
COMMON_IDF = 8.0  # a Chinese word less rare than this in jieba's corpus is an everyday word
_SLUG = re.compile(r"[^a-z0-9]+")
# "MOSCOW, November 19 (Sputnik) — ": a place, a date and an agency, not what the text is about
_DATELINE = regex.compile(r"^\s*\p{Lu}[\p{Lu} .'-]{2,},[^\n—–]{0,60}?\s(?:—|–|--)\s*")


def profile_name(text: str) -> str:
    """A profile file name from a title, a file name or a URL's path: lower-case ASCII
    letters, digits and '_' ("draft" when none is left)."""
    slug = _SLUG.sub("_", text.lower()).strip("_")[:48].strip("_")
    return slug or "draft"


def derive(
    title: str,
    text: str,
    language: str | None,
    concepts: Mapping[str, tuple[str, ...]],
    *,
    name: str = "draft",
    source: str = "",
) -> Draft:
    """A draft profile from a document; ValueError when it holds nothing to derive from."""
    if not (title.strip() or text.strip()):
        raise ValueError("the document has no text to derive a profile from")
    doc = Doc(title=title, text=_DATELINE.sub("", text, count=1), language=language)
    found = _concepts(doc, concepts)
    organisations, people = names(doc.title, doc.text, language)
    terms = [term for c in found if not c.broad for term in c.terms]
    orgs = _organisations(organisations, doc, terms, concepts)
    # the names a concept already holds, as the document writes them: pieces of them add nothing
    held = list(
        {t.casefold(): t for t in (*terms, *(o.text for o in orgs if o.why_not == HELD))}.values()
    )
    named = list(
        zip(held, _counts([quoted(t) for t in held], [_body(doc)], concepts)[0], strict=True)
    )
    ranked = _phrases(key_phrases(doc.title, doc.text, language), doc, found, named, people,
                      concepts)  # fmt: skip
    in_query = {c.text.casefold() for c in ranked if not c.why_not}
    orgs = [
        replace(o, why_not="a key phrase already")
        if not o.why_not and o.text.casefold() in in_query
        else o
        for o in orgs
    ]
    alternatives = [f"@{c.name}" for c in found if not c.broad]
    alternatives += [quoted(c.text) for c in (*ranked, *orgs) if not c.why_not]
    context = [f"@{c.name}" for c in found if c.broad]
    if not alternatives and not context:
        raise ValueError(
            "no concept, key phrase or organisation found: nothing to derive a query from"
        )
    query = wrapped(alternatives or context, context if alternatives else [])
    parse_query(query, concepts=concepts)  # a draft that does not parse is a bug: fail here
    return Draft(
        name=name,
        title=title,
        language=language,
        query=query,
        concepts=tuple(found),
        phrases=tuple(ranked),
        organisations=tuple(orgs),
        people=tuple(people),
        source=source,
        known=dict(concepts),
    )


def _body(doc: Doc) -> Doc:
    """The headline and the text as one text: an occurrence in the headline counts once."""
    return Doc(title="", text=f"{doc.title}\n{doc.text}")


def _counts(
    queries: list[str], docs: list[Doc], concepts: Mapping[str, tuple[str, ...]]
) -> list[list[int]]:
    """For each doc, how often each query's terms occur in it, as the matcher counts them
    (each query a profile of its own, all matched at once)."""
    profiles = [
        Profile(name=str(i), version="", query=parse_query(q, concepts=concepts), min_score=0)
        for i, q in enumerate(queries)
    ]
    matcher = Matcher(profiles)
    table = []
    for doc in docs:
        row = [0] * len(queries)
        for match in matcher.match(doc):
            row[int(match.profile)] = round(match.score)
        table.append(row)
    return table


def _concepts(doc: Doc, concepts: Mapping[str, tuple[str, ...]]) -> list[Found]:
    """The concepts the document mentions: named things first, then broad ones, each by how
    often it is mentioned."""
    found = []
    if concepts:
        matcher = Matcher(
            Profile(name=n, version="", query=parse_query(f"@{n}", concepts=concepts), min_score=0)
            for n in concepts
        )
        for match in matcher.match(_body(doc)):
            aliases = concepts[match.profile]
            found.append(
                Found(
                    match.profile, round(match.score), tuple(match.matched_terms), _broad(aliases)
                )
            )
    return sorted(found, key=lambda c: (c.broad, -c.count, c.name))


def _broad(aliases: tuple[str, ...]) -> bool:
    """Most aliases one everyday word (China, Китая, internet, 网络): context, not a subject.
    Han text of three characters or fewer counts as one word; a list of fewer than four is
    one name's spellings."""
    single = [
        a for a in aliases
        if " " not in a.strip() and (len(a) <= 3 or not any(map(is_cjk, a)))
    ]  # fmt: skip
    return len(aliases) >= 4 and len(single) * 2 > len(aliases)


def _usable(text: str) -> bool:
    """A phrase or a name the query can hold as written: one line, printable, not empty."""
    return bool(fold_term(text)) and one_line(text, len(text) + 1) == text


def _phrases(
    phrases: list[KeyPhrase],
    doc: Doc,
    found: list[Found],
    named: list[tuple[str, int]],
    people: list[Name],
    concepts: Mapping[str, tuple[str, ...]],
) -> list[Candidate]:
    """Each key phrase with its count and why it is not in the query ("" when it is)."""
    usable = [p for p in phrases if _usable(p.text)]
    if not usable:
        return []
    counts = _counts([quoted(p.text) for p in usable], [_body(doc)], concepts)[0]
    # which named terms each phrase occurs in, and which concepts found occur in each phrase
    inside = _counts([quoted(p.text) for p in usable], [Doc("", t) for t, _ in named], concepts)
    holds = _counts([f"@{c.name}" for c in found], [Doc("", p.text) for p in usable], concepts)
    chinese = is_chinese(f"{doc.title}\n{doc.text}", doc.language)
    rarity = idf([p.text for p in usable]) if chinese else [COMMON_IDF] * len(usable)
    person_words = {w for p in people for w in p.text.split()} | TITLES
    reasons = []
    for i, phrase in enumerate(usable):
        count = counts[i]
        held_by = [c for c, hit in zip(found, holds[i], strict=True) if hit]
        within = sum(times for (_, times), row in zip(named, inside, strict=True) if row[i])
        why = ""
        if not count:
            why = "not found as written"
        elif any(not c.broad for c in held_by):
            why = f"@{next(c.name for c in held_by if not c.broad)} holds it"
        elif count <= within:
            why = "only inside a name a concept holds"
        elif person_words & set(phrase.text.split()):
            why = "a person or a title"
        elif phrase.words == 1 and held_by:
            why = f"a word of @{held_by[0].name} (context)"
        elif phrase.words == 1 and _everyday(phrase.text, doc, rarity[i], chinese):
            why = "an everyday word"
        elif count < 2:
            why = "found once"
        reasons.append(why)
    _prefer_longer(usable, reasons, concepts)
    out, taken = [], 0
    for phrase, count, reason in zip(usable, counts, reasons, strict=True):
        why = (
            f"beyond the {QUERY_PHRASES} best" if not reason and taken >= QUERY_PHRASES else reason
        )
        taken += not why
        out.append(Candidate(phrase.text, count, phrase.score, why))
    return out


def _prefer_longer(
    phrases: list[KeyPhrase], reasons: list[str], concepts: Mapping[str, tuple[str, ...]]
) -> None:
    """Leave out a word that a longer phrase kept for the query holds: `算法 OR 算法备案` is
    `算法`, every text on algorithms; the longer phrase is the subject."""
    longer = [p.text for p, why in zip(phrases, reasons, strict=True) if not why and p.words > 1]
    words = [i for i, (p, why) in enumerate(zip(phrases, reasons, strict=True))
             if not why and p.words == 1]  # fmt: skip
    if not longer or not words:
        return
    rows = _counts([quoted(phrases[i].text) for i in words], [Doc("", t) for t in longer],
                   concepts)  # fmt: skip
    for column, i in enumerate(words):
        holder = next((t for t, row in zip(longer, rows, strict=True) if row[column]), None)
        if holder is not None:
            reasons[i] = f"broader than {quoted(holder)}, in the query"


def _everyday(word: str, doc: Doc, rarity: float, chinese: bool) -> bool:
    """A word the text also writes in lower case (a common noun, not a name), or, in Chinese,
    a word common in jieba's corpus (世界, 大会)."""
    if chinese:
        return rarity < COMMON_IDF
    lower = word.lower()
    if lower == word:
        return True
    return re.search(rf"(?<!\w){re.escape(lower)}(?!\w)", f"{doc.title}\n{doc.text}") is not None


HELD = "a concept found holds it"


def _organisations(
    organisations: list[Name],
    doc: Doc,
    terms: list[str],
    concepts: Mapping[str, tuple[str, ...]],
) -> list[Candidate]:
    """Each organisation with its count and why it is not in the query ("" when it is)."""
    usable = [o for o in organisations if _usable(o.text)]
    if not usable:
        return []
    counts = _counts([quoted(o.text) for o in usable], [_body(doc)], concepts)[0]
    holds = _counts([quoted(t) for t in terms], [Doc("", o.text) for o in usable], concepts)
    out = []
    for i, org in enumerate(usable):
        count = counts[i] or org.count
        why = HELD if any(holds[i]) else "named once" if count < 2 else ""
        out.append(Candidate(org.text, count, None, why))
    return out
