"""What every benchmark shares: the machine it ran on, the corpus pages, medians with spread,
and the JSON result files. Nothing runs at import time."""

from __future__ import annotations

import gzip
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
RESULTS = REPO / "benchmarks" / "results"
LIBRARIES = (
    "feedparser",
    "trafilatura",
    "lxml",
    "aiohttp",
    "sqlalchemy",
    "sqlmodel",
    "apprise",
    "ahocorasick-rs",
    "reader",
    "psycopg",
)


def machine() -> dict[str, Any]:
    """CPU model, cores, Python and the versions of the libraries that set the pace."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libraries": versions,
        "noise_probe_ms": noise_probe(),
    }


def noise_probe(rounds: int = 5) -> float:
    """Median ms of a fixed pure-Python loop: how fast the machine is right now (the host's
    speed drifts 1–2× between runs; compare this figure when comparing two result files)."""

    def loop() -> None:
        total = 0
        for i in range(300_000):
            total += i * i % 7

    return statistics.median(cpu_ms(loop) for _ in range(rounds))


def cpu_ms(work: Callable[[], object]) -> float:
    """CPU milliseconds of this process spent running `work` once."""
    started = time.process_time()
    work()
    return (time.process_time() - started) * 1000


@dataclass(frozen=True, slots=True)
class Spread:
    """Median of several runs with the lowest and highest, for tables and JSON."""

    median: float
    low: float
    high: float
    runs: int

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        found = sorted(values)
        if not found:
            raise ValueError("no values")
        return cls(statistics.median(found), found[0], found[-1], len(found))

    def show(self, unit: str = "", digits: int | None = None) -> str:
        """median [low–high]; by default 3 decimals below 1.5 (scores, ratios of one),
        1 below 1,000, none above."""
        if digits is None:
            top = max(abs(self.median), abs(self.high))
            digits = 3 if top < 1.5 else 1 if top < 1000 else 0
        return f"{self.median:,.{digits}f}{unit} [{self.low:,.{digits}f}–{self.high:,.{digits}f}]"

    def as_dict(self) -> dict[str, float | int]:
        return {"median": self.median, "low": self.low, "high": self.high, "runs": self.runs}


def corpus_pages(limit: int | None = None) -> list[tuple[str, bytes]]:
    """(name, HTML bytes) of the real article pages in ../shared/corpus: the extraction
    benchmark's 181 pages, then the readability test pages. Empty when the corpus is absent."""
    pages: list[tuple[str, bytes]] = []
    html = CORPUS / "extraction-benchmark" / "html"
    if html.is_dir():
        for path in sorted(html.glob("*.html.gz")):
            pages.append((path.name.removesuffix(".html.gz"), gzip.decompress(path.read_bytes())))
    readability = CORPUS / "readability-pages"
    if readability.is_dir():
        for source in sorted(readability.glob("*/source.html")):
            pages.append((f"readability/{source.parent.name}", source.read_bytes()))
    return pages[:limit] if limit else pages


def write_result(name: str, payload: dict[str, Any], output: Path | None = None) -> Path:
    """Write a benchmark's result (with the machine) as JSON; the path written."""
    path = output or RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    return path


@dataclass(frozen=True, slots=True)
class Figure:
    """One line of the benchmark table: a measured value (median and spread over runs), its
    unit, and the target it is held against (None when it only informs)."""

    name: str
    value: Spread
    unit: str
    target: str | None = None
    ok: bool | None = None  # met the target (None: no target)
    note: str = ""

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Figure:
        value = Spread(row["median"], row["low"], row["high"], row["runs"])
        return cls(row["figure"], value, row["unit"], row["target"], row["ok"], row["note"])

    def as_dict(self) -> dict[str, Any]:
        return {
            "figure": self.name,
            **self.value.as_dict(),
            "unit": self.unit,
            "target": self.target,
            "ok": self.ok,
            "note": self.note,
        }


def print_figures(title: str, figures: Iterable[Figure]) -> None:
    """A plain-text table: figure, median [low–high] unit, target and verdict."""
    rows = [
        (
            f.name,
            f"{f.value.show()} {f.unit}".rstrip(),
            f.target or "",
            "" if f.ok is None else ("PASS" if f.ok else "FAIL"),
            f.note,
        )
        for f in figures
    ]
    print(f"\n== {title} ==")
    if not rows:
        print("(nothing measured)")
        return
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        line = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4]))
        print(f"{line}  {row[4]}".rstrip())


def machine_line(host: dict[str, Any]) -> str:
    """The machine in one line, with the noise probe to compare runs by."""
    versions = ", ".join(f"{k} {v}" for k, v in host["libraries"].items() if v)
    return (
        f"machine: {host['cpu']}, {host['cores']} cores, Python {host['python']}; noise probe "
        f"{host['noise_probe_ms']:.1f} ms (lower is a faster moment of this host); {versions}"
    )


def report(
    name: str,
    title: str,
    result: dict[str, Any],
    output: Path | None = None,
    details: Callable[[dict[str, Any]], None] | None = None,
) -> Path:
    """What a benchmark's main() prints and writes: the figures, its own details (if any),
    the machine, and the JSON result file."""
    print_figures(title, [Figure.from_dict(row) for row in result["figures"]])
    if details is not None:
        details(result)
    host = machine()
    print(machine_line(host))
    path = write_result(name, {**result, "machine": host}, output)
    print(f"written: {path}")
    return path
