"""The MinHash signature of a text, computed with numpy: what it is (NUM_PERM slots over
SHINGLE-character shingles of the folded text's first MAX_CHARS, none under MIN_CHARS) and
how it is computed. monitor.pipeline.stories holds the rules that compare signatures.

The scheme is the same as datasketch's "affine32" (datasketch 2.0, seed 1, its default SHA-1
hash), so signatures stored by earlier versions, which used datasketch, stay comparable;
datasketch itself (which imports scipy, about 40 MB per process) is only needed by the test
that checks the two agree. Only the extraction workers import this module (numpy adds about
15 MB to a process).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import cache

import numpy as np
import numpy.typing as npt

from monitor.profiles.normalize import fold

NUM_PERM = 128  # slots of 32 bits: 512 bytes a signature
SHINGLE = 5
MIN_CHARS = 300  # shorter texts (a headline and a line) are too alike by chance
MAX_CHARS = 6000  # the opening of an article is enough to recognise a copy of it
_SEED = 1  # fixed: signatures are stored and compared across processes and restarts
_U32 = np.uint32
_EMPTY = 0xFFFFFFFF  # the value of a slot no shingle reached (unreachable past MIN_CHARS)
_DIGEST_WORDS = 5  # a SHA-1 digest is 20 bytes: five 32-bit words


def signature(text: str) -> bytes | None:
    """The MinHash of a text as bytes (NUM_PERM × uint32), or None for short texts."""
    folded = fold(text[: MAX_CHARS * 2])[0][:MAX_CHARS]
    if len(folded) < MIN_CHARS:
        return None
    shingles = {folded[i : i + SHINGLE] for i in range(len(folded) - SHINGLE + 1)}
    return _minhash(shingles).astype("<u4").tobytes()


def _minhash(shingles: Iterable[str]) -> npt.NDArray[np.uint32]:
    """The NUM_PERM minimum permuted hashes of distinct shingles.

    Each shingle's hash is the first four bytes of the SHA-1 of its UTF-8 form, read as a
    little-endian number; the hashes are scrambled by the 32-bit MurmurHash3 finalizer, and
    slot k keeps the least a_k·h + b_k over them, all in uint32 where overflow wraps around
    (that wraparound is the modulo 2³² of the scheme).
    """
    sha1 = hashlib.sha1
    digests = b"".join([sha1(s.encode(), usedforsecurity=False).digest() for s in shingles])
    # The digests laid end to end as little-endian words; every fifth is a digest's first.
    hashes = np.frombuffer(digests, dtype="<u4")[::_DIGEST_WORDS].astype(_U32)
    _premix(hashes)
    a, b = _permutations()
    # One row per slot, one column per shingle: each row's minimum is a run over contiguous
    # memory (three times as fast as the other way round).
    permuted = np.multiply.outer(a, hashes)
    permuted += b[:, np.newaxis]
    smallest: npt.NDArray[np.uint32] = permuted.min(axis=1, initial=_EMPTY)
    return smallest


def _premix(h: npt.NDArray[np.uint32]) -> None:
    """The MurmurHash3 32-bit finalizer (a bijection of uint32), in place."""
    h ^= h >> _U32(16)
    h *= _U32(0x85EBCA6B)
    h ^= h >> _U32(13)
    h *= _U32(0xC2B2AE35)
    h ^= h >> _U32(16)


@cache
def _permutations() -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]]:
    """The multipliers (odd) and offsets of the NUM_PERM permutations, drawn once per process
    from numpy's legacy RandomState(_SEED) in the same calls, order and dtype as datasketch
    2.0 draws them for "affine32": first NUM_PERM halves of the multipliers below 2³¹ (each
    doubled plus one), then NUM_PERM offsets below 2³²."""
    draw = np.random.RandomState(_SEED)
    halves = draw.randint(0, 1 << 31, NUM_PERM, dtype=_U32)
    offsets = draw.randint(0, 1 << 32, NUM_PERM, dtype=_U32)
    multipliers = halves * _U32(2) + _U32(1)
    multipliers.setflags(write=False)
    offsets.setflags(write=False)
    return multipliers, offsets
