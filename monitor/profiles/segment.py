"""Chinese word segmentation (jieba) for deriving profiles: loaded on first use, silent, and
without jieba's cache file.

jieba turns its bundled dictionary (349,000 words) into a prefix dictionary the first time it
cuts (about 0.6 s here). By default it keeps that in `jieba.cache` in the shared temporary
folder and later reads back whatever file has that name with `marshal`, which is not safe
against a file someone else put there; here the prefix dictionary is built in memory, once per
process, and no file is read or written. Importing jieba.analyse also reads its IDF table
(0.7 s): nothing of this happens before the first Chinese text is derived from.
"""

from __future__ import annotations

import logging
import threading
import warnings
from dataclasses import dataclass
from typing import Any

_LOCK = threading.Lock()
_JIEBA: dict[str, Any] = {}


@dataclass(frozen=True, slots=True)
class Token:
    """A word as jieba cuts and tags it: `tag` is its part of speech (n noun, nr person name,
    ns place, nt organisation, nz other proper noun, vn verbal noun, v verb, x punctuation …)."""

    word: str
    tag: str


def _jieba() -> dict[str, Any]:
    """jieba's part-of-speech tagger and keyword module, imported and initialised once."""
    with _LOCK:
        if not _JIEBA:
            with warnings.catch_warnings():
                # jieba 0.42 imports pkg_resources (deprecated by newer setuptools) and leaves
                # its IDF file open when jieba.analyse is imported (a ResourceWarning)
                warnings.simplefilter("ignore")
                import jieba  # noqa: PLC0415
                import jieba.analyse  # noqa: PLC0415
                import jieba.posseg  # noqa: PLC0415
            jieba.setLogLevel(logging.WARNING)  # "Building prefix dict …" on stderr otherwise
            tokenizer = jieba.dt
            with tokenizer.lock:
                if not tokenizer.initialized:  # jieba.initialize() without its cache file
                    tokenizer.FREQ, tokenizer.total = tokenizer.gen_pfdict(
                        tokenizer.get_dict_file()
                    )
                    tokenizer.initialized = True
            _JIEBA.update(posseg=jieba.posseg, idf=jieba.analyse.default_tfidf)
        return _JIEBA


def tokens(text: str) -> list[Token]:
    """`text` cut into tagged words (spaces and line breaks are tokens tagged x)."""
    posseg = _jieba()["posseg"]
    return [Token(str(pair.word), str(pair.flag)) for pair in posseg.cut(text)]


def idf(words: list[str]) -> list[float]:
    """How rare each word is in jieba's reference corpus (its inverse document frequency:
    世界 4.4, 乌镇 9.6); a word the table lacks gets the median, 11.95."""
    table = _jieba()["idf"]
    return [float(table.idf_freq.get(word, table.median_idf)) for word in words]
