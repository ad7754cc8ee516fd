"""Stories: near-duplicate articles (wire copy, syndication) recognised by MinHash signatures.

Each article long enough gets a MinHash over 5-character shingles of its folded text, which
works for Chinese as well as for space-separated scripts (monitor.minhash computes it, in the
extraction workers). The signature is cut into bands; articles sharing a band are
candidates, and a candidate whose estimated Jaccard similarity reaches THRESHOLD belongs to
the same story. Pure: no I/O, and no numpy, so the main process does not load it.
"""

from __future__ import annotations

import hashlib
import struct

NUM_PERM = 128
BANDS, ROWS = 16, 8  # 16 × 8 = 128: candidates from about 0.7 similarity up
THRESHOLD = 0.7
SHINGLE = 5
MIN_CHARS = 300  # shorter texts (a headline and a line) are too alike by chance
MAX_CHARS = 6000  # the opening of an article is enough to recognise a copy of it


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
    return sum(x == y for x, y in zip(left, right, strict=True)) / NUM_PERM
