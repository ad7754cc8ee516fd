"""What the shipped profiles cost per article, and how that compares with another version of
them in the same run (a part of the matching benchmark, figure 7).

The synthetic term sets of figure 7 say how matching scales; this says what the profiles users
run cost: config/profiles and config/concepts.yaml matched against the same English and Chinese
texts, CPU per article. With a baseline (another config folder, or the `config/` of a git
revision) both are measured pass by pass, alternating which goes first, and the ratio
new ÷ baseline is taken within each pass: the machine's drift hits both alike.

    .venv/bin/python -m benchmarks.matching --baseline-rev 3ce27d1   # today's profiles vs then
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import time
from pathlib import Path

from benchmarks.common import Figure, Spread
from monitor.profiles.files import load_profiles
from monitor.profiles.matcher import Matcher
from monitor.profiles.profile import Doc

REPO = Path(__file__).resolve().parent.parent
TARGET = 1.10  # the profiles may cost at most 10 % more than the baseline's


def config_at(revision: str, into: Path) -> Path:
    """The config/ folder of a git revision of this repository, unpacked under `into`."""
    archive = subprocess.run(  # noqa: S603  (git with a revision the user named)
        ["git", "-C", str(REPO), "archive", "--format=tar", revision, "config"],  # noqa: S607
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "config"


def _cpu_per_article(matcher: Matcher, docs: list[Doc]) -> float:
    started = time.process_time()
    for doc in docs:
        matcher.match(doc)
    return (time.process_time() - started) / len(docs)


def measure(
    docs: dict[str, list[Doc]],
    config: Path,
    baseline: Path | None,
    passes: int,
) -> list[Figure]:
    """CPU ms per article of `config`'s profiles per language, and the ratio to `baseline`'s."""
    matchers = {"shipped": Matcher(load_profiles(config))}
    if baseline is not None:
        matchers["baseline"] = Matcher(load_profiles(baseline))
    cpu: dict[tuple[str, str], list[float]] = {}
    for matcher in matchers.values():  # warm-up, untimed
        for texts in docs.values():
            for doc in texts:
                matcher.match(doc)
    for n in range(passes):
        order = list(matchers) if n % 2 == 0 else list(reversed(matchers))
        for language, texts in docs.items():
            for name in order:
                cpu.setdefault((name, language), []).append(_cpu_per_article(matchers[name], texts))
    figures = []
    for language in docs:
        mine = cpu["shipped", language]
        figures.append(
            Figure(
                f"matching {language}, the shipped profiles",
                Spread.of(v * 1000 for v in mine),
                "ms/article",
            )
        )
        if baseline is not None:
            ratio = Spread.of(m / b for m, b in zip(mine, cpu["baseline", language], strict=True))
            figures.append(
                Figure(
                    f"matching {language}, the shipped profiles ÷ baseline",
                    ratio,
                    "×",
                    f"≤ {TARGET}",
                    ratio.median <= TARGET,
                    f"baseline: {baseline}",
                )
            )
    return figures


def baseline_folder(config: Path | None, revision: str | None, scratch: str) -> Path | None:
    """The baseline's config folder: given, or unpacked from a revision into `scratch`."""
    if config is not None:
        return config
    if revision is not None:
        return config_at(revision, Path(scratch))
    return None
