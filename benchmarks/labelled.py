"""Labelled texts for the relevance report: reading a corpus folder and its one-time split.

A corpus folder holds one text per file and `labels.csv`. The first line of a text is its
source URL (the shared corpus writes `SOURCE: URL`, then `NOTE:` and `---` lines); the rest is
the article body. labels.csv has a `file` column, one 0/1 column per profile (named like the
profile; `wic` stands for world_internet_conference), `language`, `note`, and optionally
`split`: `dev` (profiles may be tuned on it) or `held-out` (they are judged on it, never tuned
on it). Rows without a split (all of them in the shared corpus) form a set of their own, named
by the caller.

`assign_splits` fills the split of rows that have none, at random but balanced within each
language and within positives and negatives, and never changes a split already written: texts
added later join a half once and stay there.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

LABELS = "labels.csv"
SPLITS = ("dev", "held-out")
FIXED = ("file", "language", "note", "split")  # the columns that do not name a profile
ALIASES = {"wic": "world_internet_conference"}  # label column -> profile name


class LabelsError(Exception):
    """labels.csv cannot be read: which file, which line, what is wrong."""


@dataclass(frozen=True)
class Text:
    """One labelled text: its body, language, half, and the profiles it is relevant to."""

    file: str
    body: str
    language: str
    split: str
    relevant: frozenset[str]
    note: str


def profile_columns(corpus: Path) -> list[str]:
    """The profile names labelled in the folder's labels.csv, in column order."""
    with (corpus / LABELS).open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh), [])
    return [ALIASES.get(c, c) for c in header if c not in FIXED]


def read_corpus(corpus: Path, default_split: str) -> tuple[list[Text], list[str]]:
    """The texts listed in labels.csv (sorted by file name), and a warning per file listed
    but missing or present but unlisted. Rows without a split get `default_split`."""
    path = corpus / LABELS
    texts: list[Text] = []
    warnings: list[str] = []
    named: set[str] = set()
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        columns = [c for c in reader.fieldnames or [] if c not in FIXED]
        for row in reader:
            line = reader.line_num
            name = row.get("file") or ""
            named.add(name)
            for column in columns:
                if (row.get(column) or "").strip() not in {"0", "1"}:
                    raise LabelsError(f"{path}, line {line}: {column} must be 0 or 1")
            split = (row.get("split") or "").strip() or default_split
            if "split" in (reader.fieldnames or []) and split not in SPLITS:
                raise LabelsError(f"{path}, line {line}: split must be dev or held-out")
            source = corpus / name
            if not source.is_file():
                warnings.append(f"{path}, line {line}: {name} is missing; skipped")
                continue
            texts.append(
                Text(
                    file=name,
                    body=body_of(source),
                    language=(row.get("language") or "").strip() or "unknown",
                    split=split,
                    relevant=frozenset(
                        ALIASES.get(c, c) for c in columns if (row[c] or "").strip() == "1"
                    ),
                    note=row.get("note") or "",
                )
            )
    for extra in sorted({p.name for p in corpus.glob("*.txt")} - named):
        warnings.append(f"{path}: {extra} has no row; skipped")
    return sorted(texts, key=lambda t: t.file), warnings


def body_of(path: Path) -> str:
    """The text of a corpus file without its header: the source URL on the first line, or
    the shared corpus's `SOURCE:`, `NOTE:` and `---` lines."""
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    skip = 1
    if lines[0].startswith("SOURCE:"):
        while skip < len(lines) and lines[skip].startswith(("NOTE:", "---")):
            skip += 1
    return "\n".join(lines[skip:])


def assign_splits(corpus: Path, seed: int) -> int:
    """Give every row of labels.csv without a split one, half and half at random within each
    group of (language, relevant to any profile); rewrite the file. How many rows changed."""
    path = corpus / LABELS
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    if "split" not in header:
        header.append("split")
    profiles = [c for c in header if c not in FIXED]
    groups: dict[tuple[str, bool], list[dict[str, str]]] = defaultdict(list)
    taken: dict[tuple[str, bool], list[str]] = defaultdict(list)
    for row in rows:
        key = (row.get("language", ""), any(row[c].strip() == "1" for c in profiles))
        if (row.get("split") or "").strip():
            taken[key].append(row["split"])
        else:
            groups[key].append(row)
    rng = random.Random(seed)
    changed = 0
    for key in sorted(groups):
        waiting = sorted(groups[key], key=lambda r: r["file"])
        rng.shuffle(waiting)
        dev = taken[key].count("dev")
        held = len(taken[key]) - dev
        for row in waiting:  # the half with fewer texts gets the next one, a coin decides ties
            fewer = "dev" if dev < held else "held-out"
            choice = rng.choice(SPLITS) if dev == held else fewer
            row["split"] = choice
            dev += choice == "dev"
            held += choice == "held-out"
            changed += 1
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows({c: row.get(c, "") for c in header} for row in rows)
    return changed
