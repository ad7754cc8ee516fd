"""A profile's `focus`: a match must show its evidence where a text is about something.

A passing mention (a conference named as what a town is known for, the regulator named as
the body that will write the rules) sits deep in the body, once. Texts about a subject name
it in the headline or the opening sentences, or come back to it. With
`focus: {lead: N, mentions: M}` a query that holds matches only when one of the reasons that
decided it (reasons.py: the context of an AND does not count) lies

- in the headline, or in the first N sentences of the body;
- or in at least M places of the body, each more than SAME_PLACE words from the last;
- or anywhere in a brief: a body of at most 2 × N sentences is all lead (feed summaries, and
  articles whose page could not be extracted, are stored as two or three sentences).

A sentence ends at . ! ? before a space, at 。！？ and at a line break (headlines, captions and
list items stand on their own lines).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from monitor.profiles.evaluate import FoldedField, Occurrence
from monitor.profiles.normalize import CJK_RANGES
from monitor.profiles.profile import Focus

SAME_PLACE = 8  # words: two reasons closer than this are one mention ("WIC (World Internet…)")
SENTENCE_WORDS = 6  # a piece of text shorter than this is not a sentence of the lead
_WORD = re.compile(f"[{CJK_RANGES}]|[^\\W{CJK_RANGES}]+")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s)|[。！？][”’」』）]*|\n")


def sentence_ends(text: str, limit: int | None = None) -> list[int]:
    """The offset just past each sentence of `text` of at least SENTENCE_WORDS words (a CJK
    character counting as a word): shorter pieces (navigation, bylines, dates, captions'
    credits, a headline) sit inside the lead but do not use it up. With `limit`, the first
    `limit` only: the rest of a long text is not read."""
    ends: list[int] = []
    start = 0
    for found in _SENTENCE_END.finditer(text):
        if _words(text[start : found.end()]) >= SENTENCE_WORDS:
            ends.append(found.end())
            if limit is not None and len(ends) >= limit:
                return ends
        start = found.end()
    if _words(text[start:]) >= SENTENCE_WORDS:
        ends.append(len(text))
    return ends[:limit]


def _words(piece: str) -> int:
    return len(_WORD.findall(piece))


def unfocused(
    focus: Focus, reasons: Iterable[Sequence[Occurrence]], fields: dict[str, FoldedField]
) -> str:
    """Why the deciding reasons fail the focus ("" when they pass)."""
    body = fields["text"]
    ends = sentence_ends(body.original, limit=2 * focus.lead + 1)
    if len(ends) <= 2 * focus.lead:
        return ""
    lead_end = ends[focus.lead - 1]  # an offset in the original text
    starts: list[int] = []
    for reason in reasons:
        in_body = [o for o in reason if o.field == "text"]
        if len(in_body) < len(reason):
            return ""  # in the headline
        first = min(o.start for o in in_body)
        if body.origin[first] < lead_end:
            return ""
        starts.append(body.token_at(first))
    if focus.mentions and _places(starts) >= focus.mentions:
        return ""
    where = f"the first {focus.lead} sentences"
    where = f", {where} or {focus.mentions} places" if focus.mentions else f" or {where}"
    return f"focus: the evidence is not in the headline{where} (a passing mention)"


def _places(words: list[int]) -> int:
    """How many places the word numbers make, a place being more than SAME_PLACE words on
    from the previous one."""
    places, last = 0, None
    for word in sorted(words):
        if last is None or word - last > SAME_PLACE:
            places += 1
            last = word
    return places
