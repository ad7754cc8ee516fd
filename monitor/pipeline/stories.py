"""Stories: near-duplicate articles (wire copy, syndication) recognised by their signatures.

Each article long enough gets a MinHash signature of its folded text, computed in the worker
pool (monitor.ingest.minhash, which defines it: 128 slots of 32 bits over 5-character
shingles, so it works for Chinese as well as for space-separated scripts). Here are the
rules that use it: the signature is cut into bands; articles sharing a band are candidates,
and a candidate whose estimated Jaccard similarity reaches THRESHOLD, fetched within
STORY_WINDOW, belongs to the same story. Pure: no I/O, and no numpy, so the main process
does not load it.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable
from datetime import timedelta

BANDS, ROWS = 16, 8  # 16 bands × 8 slots = the signature's 128: candidates from about 0.7 up
THRESHOLD = 0.7
STORY_WINDOW = timedelta(days=7)  # a near-duplicate joins a story started this recently


def bands(sig: bytes) -> list[int]:
    """One stable 63-bit number per band of the signature (indexable in any database)."""
    size = ROWS * 4
    out = []
    for band in range(BANDS):
        digest = hashlib.blake2b(sig[band * size : (band + 1) * size], digest_size=8).digest()
        out.append(struct.unpack("<q", digest)[0] >> 1)
    return out


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of the two texts behind two signatures: the share of
    slots holding the same 32-bit value (equal words are equal in either byte order)."""
    left, right = memoryview(a).cast("I"), memoryview(b).cast("I")
    return sum(x == y for x, y in zip(left, right, strict=True)) / len(left)


def best_story(sig: bytes, candidates: Iterable[tuple[int, bytes]]) -> int | None:
    """The story of the most similar candidate (story id, signature) if it is similar enough;
    None: the article starts a story of its own."""
    scored = [(similarity(sig, other), story) for story, other in candidates]
    score, story = max(scored, default=(0.0, None))
    return story if score >= THRESHOLD else None
