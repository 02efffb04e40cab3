"""Server-rendered SVG charts: geometry computed here, drawn by a template.

No JavaScript and no third-party code: the chart works offline and under a strict CSP
(colours come from CSS classes, sizes from SVG attributes, never from style attributes).
Every chart sits next to a table of its numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 28
SERIES_CLASSES = 7


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    label: str


@dataclass
class Tick:
    y: float
    label: str


@dataclass
class XLabel:
    x: float
    label: str


@dataclass
class ColumnChart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[XLabel]
    legend: list[tuple[int, str]]
    baseline: float
    left: int = LEFT
    right: int = WIDTH - RIGHT
    empty: bool = False
    notes: list[str] = field(default_factory=list)


def nice_ceiling(value: int) -> tuple[int, int]:
    """A round maximum for the axis and its step (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1, 1
    raw = value / 4
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(1, int(step))
    return step * math.ceil(value / step), step


def column_chart(
    weeks: list[date], series: list[tuple[str, list[int]]], *, stacked: bool
) -> ColumnChart:
    """Weekly columns: stacked by series, or side by side."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_h
    n = max(1, len(weeks))
    if stacked:
        peak = max((sum(values[i] for _, values in series) for i in range(len(weeks))), default=0)
    else:
        peak = max((max(values, default=0) for _, values in series), default=0)
    top, step = nice_ceiling(peak)
    scale = plot_h / top
    slot = plot_w / n
    gap = min(2.0, slot * 0.2)
    bars: list[Bar] = []
    for i, week in enumerate(weeks):
        x = LEFT + i * slot + gap / 2
        if stacked:
            y: float = baseline
            for s, (name, values) in enumerate(series):
                h = values[i] * scale
                if h > 0:
                    y -= h
                    bars.append(
                        Bar(x, y, slot - gap, h, s % SERIES_CLASSES, f"{week}: {name} {values[i]}")
                    )
        else:
            width = (slot - gap) / max(1, len(series))
            for s, (name, values) in enumerate(series):
                h = values[i] * scale
                if h > 0:
                    bars.append(
                        Bar(
                            x + s * width,
                            baseline - h,
                            width,
                            h,
                            s % SERIES_CLASSES,
                            f"{week}: {name} {values[i]}",
                        )
                    )
    ticks = [Tick(baseline - v * scale, str(v)) for v in range(0, top + 1, step)]
    every = max(1, math.ceil(n / 8))
    labels = [
        XLabel(LEFT + i * slot + slot / 2, f"{week:%-d %b}")
        for i, week in enumerate(weeks)
        if i % every == 0
    ]
    legend = [(s % SERIES_CLASSES, name) for s, (name, _) in enumerate(series)]
    return ColumnChart(WIDTH, HEIGHT, bars, ticks, labels, legend, baseline, empty=peak == 0)


def bar_length(value: float | None, peak: float, *, width: int = 120) -> int:
    """The length of an inline bar in a table row (SVG width attribute)."""
    if not value or not peak:
        return 0
    return max(1, round(width * value / peak))
