"""The learned check: a linear model of a text's words, trained on labelled texts, that a
profile can consult beside its query (`learned:` in the profile file).

A query sees words and distances; whether a text is *about* its subject is a judgement a
person makes, and people's judgements are what the labelled texts hold. The model is a
logistic regression over tf-idf weighted features of the folded text (normalize.py): the
first six letters of each word and of each pair of neighbouring words in space-separated
scripts, and the two- and three-character runs of CJK text. It is trained off-line
(`python -m benchmarks.learn`, scikit-learn) and shipped as JSON (config/learned.json): the
features with their idf, and for each profile a bias and one weight per feature. Scoring a
text needs nothing but this module.

A profile uses it in two ways (matcher.outcome), on articles in the languages the model
learnt from (or of unknown language): on others its words mean nothing to it.
- **veto**: a text the query matches is dropped when the model gives it less than `veto`;
- **rescue**: a text the query does not match, but in which some of the profile's terms
  occur, is a match when the model gives it at least `rescue`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from monitor.errors import ConfigError
from monitor.profiles.normalize import CJK_RANGES

LEARNED_FILE = "learned.json"
STEM = 6  # letters of a word kept: "censorship" and "censored" share "censor"
READ = 2200  # characters of a text the model reads: its longest training text has 2,102
_TOKEN = re.compile(f"[{CJK_RANGES}]+|[^\\W{CJK_RANGES}]+")
_CJK_START = re.compile(f"[{CJK_RANGES}]")


def tokens(folded: str) -> list[str]:
    """The features of a folded text's first READ characters, in order, repeats kept: word
    stems and neighbouring pairs of them, and CJK character pairs and triples (a run of CJK
    text breaks a pair of words). Training (benchmarks/learn.py) and scoring both read texts
    through this."""
    found: list[str] = []
    previous = ""
    for match in _TOKEN.finditer(folded, 0, READ):
        token = match.group()
        if _CJK_START.match(token):
            found += [token[i : i + 2] for i in range(len(token) - 1)]
            found += [token[i : i + 3] for i in range(len(token) - 2)]
            previous = ""
        else:
            stem = token[:STEM]
            found.append(stem)
            if previous:
                found.append(f"{previous} {stem}")
            previous = stem
    return found


def features(folded: str) -> Counter[str]:
    """How often each feature (tokens) occurs in a folded text."""
    return Counter(tokens(folded))


@dataclass(frozen=True, slots=True)
class LearnedModel:
    """The shared features (with their idf) and each profile's weights."""

    index: dict[str, int]  # feature -> position
    idf: tuple[float, ...]
    weights: dict[str, tuple[float, tuple[float, ...]]]  # profile -> (bias, one per feature)
    trained_on: str = ""  # what the texts were, for `profiles test` and the docs
    languages: tuple[str, ...] = ()  # of the texts it learnt from (code prefixes); () any
    digest: str = ""  # of the file: a profile's version changes with its model

    def vector(self, folded: str) -> tuple[tuple[int, float], ...]:
        """A folded text as the model sees it: for each of the model's features in it, its
        position and sublinear tf (1 + ln n) times idf, scaled to unit length. Computed once
        per article, whatever the number of profiles that ask."""
        found = []
        for feature, count in features(folded).items():
            at = self.index.get(feature)
            if at is not None:
                found.append((at, (1.0 + math.log(count)) * self.idf[at]))
        length = math.sqrt(sum(value * value for _, value in found))
        return tuple((at, value / length) for at, value in found) if length else ()

    def probability(self, profile: str, vector: tuple[tuple[int, float], ...]) -> float:
        """The model's probability that a text (its `vector`) is relevant to `profile`: the
        weighted sum plus the bias, through the logistic function."""
        bias, weights = self.weights[profile]
        z = bias + sum(value * weights[at] for at, value in vector)
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


def load_model(path: Path) -> LearnedModel:
    """config/learned.json, checked: a readable error naming the file if it is not a model."""
    try:
        raw = path.read_bytes()
        data = json.loads(raw.decode("utf-8"))
        names = data["features"]
        idf = tuple(float(v) for v in data["idf"])
        weights = {
            name: (float(entry["bias"]), tuple(float(v) for v in entry["weights"]))
            for name, entry in data["profiles"].items()
        }
    except FileNotFoundError:
        raise ConfigError(
            "no learned model: train one with `python -m benchmarks.learn`", path=path
        ) from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # UnicodeError is one
        raise ConfigError(f"not a learned model ({type(exc).__name__}: {exc})", path=path) from None
    if len(idf) != len(names) or any(len(w) != len(names) for _, w in weights.values()):
        raise ConfigError(
            "not a learned model: features, idf and weights differ in length", path=path
        )
    return LearnedModel(
        {name: i for i, name in enumerate(names)},
        idf,
        weights,
        str(data.get("trained_on", "")),
        tuple(str(code) for code in data.get("languages", ())),
        hashlib.sha256(raw).hexdigest()[:12],
    )
