"""A bar chart of counts per day, laid out on the server: where each bar and axis label goes in
SVG user units. Pure arithmetic; templates/_chart.html turns a BarChart into <svg> markup."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

TOP, RIGHT, BOTTOM, LEFT = 8.0, 22.0, 20.0, 34.0  # margins: room for the axis labels
GAP = 0.2  # of each day's slot left empty between two bars
LABEL_EVERY = 7  # days between two date labels, counted back from the newest day


@dataclass(frozen=True, slots=True)
class Bar:
    """One day: its count and the rectangle that shows it."""

    day: date
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Label:
    """A piece of axis text at (x, y); `anchor` is SVG's text-anchor."""

    x: float
    y: float
    text: str
    anchor: str


@dataclass(frozen=True, slots=True)
class BarChart:
    """Everything the template needs to draw the chart, nothing it has to compute."""

    width: float
    height: float
    description: str  # what a screen reader says (aria-label)
    bars: tuple[Bar, ...]
    labels: tuple[Label, ...]
    axis_y: float  # the baseline
    axis_x0: float
    axis_x1: float
    peak: int  # the count a full-height bar stands for


def bar_chart(
    counts: Sequence[tuple[date, int]], *, what: str, width: float = 640, height: float = 180
) -> BarChart:
    """One bar per (day, count), oldest first, scaled so the busiest day fills the height;
    dates under every seventh bar from the newest, 0 and the peak beside the axis."""
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    slot = plot_w / max(len(counts), 1)
    peak = max((count for _, count in counts), default=0)
    scale = plot_h / max(peak, 1)
    baseline = TOP + plot_h
    bars = tuple(
        Bar(
            day=day,
            count=count,
            x=LEFT + i * slot + slot * GAP / 2,
            y=baseline - count * scale,
            width=slot * (1 - GAP),
            height=count * scale,
        )
        for i, (day, count) in enumerate(counts)
    )
    dates = tuple(
        Label(bar.x + bar.width / 2, height - 5, f"{bar.day:%b} {bar.day.day}", "middle")
        for bar in bars[::-1][::LABEL_EVERY]
    )
    numbers = (Label(LEFT - 5, baseline, "0", "end"), Label(LEFT - 5, TOP + 8, str(peak), "end"))
    return BarChart(
        width=width,
        height=height,
        description=_description(counts, what),
        bars=bars,
        labels=dates + (numbers if peak else numbers[:1]),
        axis_y=baseline,
        axis_x0=LEFT,
        axis_x1=width - RIGHT,
        peak=peak,
    )


def _description(counts: Sequence[tuple[date, int]], what: str) -> str:
    if not counts:
        return f"{what}: no days"
    total = sum(count for _, count in counts)
    busiest_day, busiest = max(counts, key=lambda pair: pair[1])
    days = f"{len(counts)} days, {counts[0][0]:%Y-%m-%d} to {counts[-1][0]:%Y-%m-%d}"
    most = f"; most on {busiest_day:%Y-%m-%d} ({busiest})" if busiest else ""
    return f"{what} per day over {days}: {total} in all{most}"
