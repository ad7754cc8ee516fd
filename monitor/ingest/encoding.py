"""Feed bytes to text: BOMs, UTF-16/32, declared charsets checked against the bytes, detection."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

# Byte order marks, longest first (the UTF-32 LE mark starts with the UTF-16 LE one).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# "<" in UTF-32/UTF-16 without a BOM (XML 1.0, appendix F).
_WIDE = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:\-]{1,40})""")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:\-]{1,40})""", re.IGNORECASE)
# Labels replaced by the superset browsers use for them (WHATWG Encoding), so a page declared
# gb2312 that uses a GBK-only character still decodes; the first that decodes strictly wins.
_WIDER: dict[str, tuple[str, ...]] = {
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "iso8859_1": ("cp1252", "iso8859_1"),
    "ascii": ("cp1252", "iso8859_1"),
    "big5": ("big5", "cp950", "big5hkscs"),
    "euc_kr": ("cp949",),
    "shift_jis": ("cp932", "shift_jis"),
}
_WIDE_CODECS = ("utf_16", "utf_16_le", "utf_16_be", "utf_32", "utf_32_le", "utf_32_be")
# When candidates read equally well, the one used most on the web (for this monitor's
# readers: Chinese and Russian first) is taken. Ties are common on short CJK texts.
_WEB_ORDER = (
    "gb18030", "cp1251", "cp1252", "big5", "cp932", "cp949", "koi8_r", "euc_jp", "cp1250",
    "cp1256", "cp1253", "cp1254", "cp1255", "cp874", "cp1257", "cp1258", "iso8859_1",
)  # fmt: skip
# Chaos is charset_normalizer's share of odd characters in a read; coherence its fit to the
# letter frequencies of a language (0 for CJK). Reads within _TIE chaos of the best one tie:
# a declared charset among them wins; otherwise coherence, then multi-byte use, then the
# web's most used encodings decide.
_TIE = 0.02
_SAME_COHERENCE = 0.1
_LANGUAGE = 0.5  # coherence from which a read counts as fitting a language
_PLAUSIBLE = 0.1  # never believe a declared charset reading worse (as charset_normalizer)


@dataclass(frozen=True, slots=True)
class Decoded:
    """A document as text, with the codec used and what decided it."""

    text: str
    encoding: str  # Python codec name
    source: str  # "bom", "utf-16/32 pattern", "utf-8", "prolog", "header", "detected", "fallback"


def header_charset(content_type: str) -> str | None:
    """The charset parameter of a Content-Type header value, if any."""
    found = _CHARSET.search(content_type or "")
    return found.group(1) if found else None


def prolog_charset(body: bytes) -> str | None:
    """The encoding named in an XML declaration at the start of an ASCII-compatible body."""
    found = _DECLARED.match(body[:1024])
    return found.group(1).decode("ascii") if found else None


def wide_codec(body: bytes) -> tuple[str, int] | None:
    """(codec, BOM length) for a body with a BOM or in UTF-16/32 without one, else None."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return codec, len(bom)
    for start, codec in _WIDE:
        if body.startswith(start):
            return codec, 0
    return None


def decode_document(body: bytes, content_type: str = "") -> Decoded:
    """The text of a feed or page; bytes decide over labels that contradict them.

    Order: a BOM (or the UTF-16/32 shape of "<"); valid UTF-8; the prolog's and the header's
    charsets if they decode the bytes strictly and read no worse than the best detected
    candidate; charset_normalizer's detection; windows-1252 as a last resort.
    """
    wide = wide_codec(body)
    if wide is not None:
        codec, skip = wide
        return Decoded(body[skip:].decode(codec, errors="replace"), codec, _wide_source(skip))
    try:
        return Decoded(body.decode("utf-8"), "utf-8", "utf-8")
    except UnicodeDecodeError:
        pass
    labels = ((prolog_charset(body), "prolog"), (header_charset(content_type), "header"))
    declared = [
        (strict, source)
        for label, source in labels
        if label and (strict := _strict_codec(body, label)) is not None
    ]
    chosen = _choose(body, declared)
    if chosen is None:
        return Decoded(body.decode("cp1252", errors="replace"), "cp1252", "fallback")
    codec, source = chosen
    return Decoded(body.decode(codec, errors="replace"), codec, source)


def _wide_source(bom_length: int) -> str:
    return "bom" if bom_length else "utf-16/32 pattern"


def _strict_codec(body: bytes, label: str) -> str | None:
    """The codec (or its superset) for `label` that decodes `body` without error."""
    try:
        name = codecs.lookup(label).name.replace("-", "_")
    except LookupError:
        return None
    if name in _WIDE_CODECS or name == "utf_8":
        return None  # no BOM or wide shape, or not valid UTF-8: the label is wrong
    for codec in _WIDER.get(name, (name,)):
        try:
            body.decode(codec)
        except UnicodeDecodeError:
            continue
        return codec
    return None


def _chaos(body: bytes, codec: str) -> float | None:
    """charset_normalizer's mess ratio for `body` read as `codec`; None when implausible."""
    result = from_bytes(body, cp_isolation=[codec], preemptive_behaviour=False).best()
    return None if result is None else result.chaos


def _choose(body: bytes, declared: list[tuple[str, str]]) -> tuple[str, str] | None:
    """A declared charset reading as well as the best detected one wins (the lowest chaos of
    them, the prolog's on a tie); otherwise charset_normalizer's pick, except that among reads
    it cannot tell apart the web's most used encoding is taken."""
    detected = list(from_bytes(body, preemptive_behaviour=False))
    least = min((m.chaos for m in detected), default=_PLAUSIBLE)
    ceiling = min(_PLAUSIBLE, least + _TIE)
    plausible = [
        (chaos, rank, codec, source)
        for rank, (codec, source) in enumerate(declared)
        if (chaos := _chaos(body, codec)) is not None and chaos <= ceiling
    ]
    if plausible:
        _, _, codec, source = min(plausible)
        return codec, source
    if not detected:
        return None
    ties = [m for m in detected if m.chaos <= least + _TIE]
    most = max(m.coherence for m in ties)
    if most >= _LANGUAGE:  # a read that fits a language's letters beats those that do not
        ties = [m for m in ties if m.coherence >= most - _SAME_COHERENCE]
    else:  # no language evidence (CJK has none): a strict multi-byte read is the evidence
        ties = [m for m in ties if m.multi_byte_usage > 0] or ties
    return min((_codec_name(m.encoding) for m in ties), key=_web_rank), "detected"


def _codec_name(label: str) -> str:
    return codecs.lookup(label).name.replace("-", "_")


def _web_rank(codec: str) -> int:
    return _WEB_ORDER.index(codec) if codec in _WEB_ORDER else len(_WEB_ORDER)
