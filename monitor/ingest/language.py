"""Guessing an article's language when the page does not declare one (py3langid, offline)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

# Restricting the model to the languages news monitors meet most makes short and mixed
# texts (a Chinese article quoting English names) come out right.
LANGUAGES = (
    "en", "zh", "ru", "de", "fr", "es", "it", "pt", "ja", "ko", "ar", "vi", "tr", "uk", "pl", "nl",
    "id",
)  # fmt: skip
SAMPLE_CHARS = 1000  # the opening of a text decides; the rest adds time (py3langid reads every
# character in Python: 3,000 characters cost about 7 ms, 1,000 about 2 ms), not certainty


@lru_cache(maxsize=1)
def _identifier() -> Any:
    """py3langid's model cut down to LANGUAGES before the identifier is built: its own
    set_languages keeps the whole table for all 97 languages beside the cut (21 MB more in
    every process that identifies languages)."""
    import numpy as np  # noqa: PLC0415
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier  # noqa: PLC0415
    from py3langid.modelio import load_model  # noqa: PLC0415

    per_feature, per_class, classes, next_move, row, output = load_model(MODEL_DIR / MODEL_FILE)
    keep = [i for i, code in enumerate(classes) if code in LANGUAGES]
    return LanguageIdentifier(
        np.ascontiguousarray(np.asarray(per_feature)[:, keep]),
        np.asarray(per_class)[keep],
        [classes[i] for i in keep],
        next_move,
        output,
        norm_probs=True,
        tk_row=row,
    )


def detect_language(text: str) -> str | None:
    """A language code such as `en` or `zh`, or None for text too short to tell."""
    sample = text[:SAMPLE_CHARS].strip()
    if len(sample) < 10:
        return None
    code, _probability = _identifier().classify(sample)
    return str(code)
