"""Geometry of the web UI's small charts, drawn as inline SVG by the templates.

Pure functions of counts: no Django, no clock. The list page draws one sparkline per issue (a bar
per day), the issue page a trend chart with a y axis and day labels. Both are bars rather than a
line: click counts are small integers, and a bar per day reads exactly ("2 on Tuesday") where a
line would suggest values between the days.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    day: date | None = None


@dataclass(frozen=True, slots=True)
class Sparkline:
    width: int
    height: int
    bars: tuple[Bar, ...]
    total: int
    peak: int


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True, slots=True)
class DayLabel:
    x: float
    text: str


@dataclass(frozen=True, slots=True)
class TrendChart:
    width: int
    height: int
    plot_left: int
    plot_bottom: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    labels: tuple[DayLabel, ...]
    total: int
    peak: int


# A day without clicks still shows a sliver, so the baseline reads as "0", not as missing data.
EMPTY_BAR_HEIGHT = 1.0


def days_ending(last_day: date, days: int) -> list[date]:
    """The ``days`` calendar days up to and including ``last_day``, oldest first."""
    return [last_day - timedelta(days=days - 1 - index) for index in range(days)]


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is at least ``value``: a round axis top."""
    if value <= 1:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _bars(
    counts: Sequence[int],
    days: Sequence[date] | None,
    left: float,
    top: float,
    plot_width: float,
    plot_height: float,
    scale_max: int,
    gap: float,
) -> tuple[Bar, ...]:
    slot = plot_width / len(counts)
    bar_width = max(slot - gap, 1.0)
    bars = []
    for index, count in enumerate(counts):
        height = plot_height * count / scale_max if count > 0 else EMPTY_BAR_HEIGHT
        height = max(height, EMPTY_BAR_HEIGHT)
        bars.append(
            Bar(
                x=round(left + index * slot + (slot - bar_width) / 2, 2),
                y=round(top + plot_height - height, 2),
                width=round(bar_width, 2),
                height=round(height, 2),
                count=count,
                day=days[index] if days is not None else None,
            )
        )
    return tuple(bars)


def sparkline(
    counts: Sequence[int],
    days: Sequence[date] | None = None,
    width: int = 84,
    height: int = 22,
    gap: float = 1.5,
) -> Sparkline:
    """One bar per count, scaled so the busiest day fills the height."""
    if days is not None and len(days) != len(counts):
        raise ValueError("give one day per count")
    if not counts:
        return Sparkline(width, height, (), 0, 0)
    peak = max(counts)
    bars = _bars(counts, days, 0, 0, width, height, max(peak, 1), gap)
    return Sparkline(width, height, bars, sum(counts), peak)


def trend_chart(
    counts: Sequence[int],
    days: Sequence[date],
    width: int = 640,
    height: int = 160,
    label_every: int = 2,
) -> TrendChart:
    """Bars per day with a y axis rounded up to a nice number and every ``label_every``-th day
    labelled (the last day always is), leaving room on the left and below for the labels."""
    if len(days) != len(counts):
        raise ValueError("give one day per count")
    plot_left, plot_top, plot_bottom_margin = 32, 8, 20
    plot_width = width - plot_left
    plot_height = height - plot_top - plot_bottom_margin
    peak = max(counts, default=0)
    scale_max = nice_ceiling(peak)
    bars = (
        _bars(counts, days, plot_left, plot_top, plot_width, plot_height, scale_max, gap=4)
        if counts
        else ()
    )
    tick_values = sorted({0, scale_max // 2, scale_max}) if scale_max >= 2 else [0, 1]
    ticks = tuple(
        Tick(y=round(plot_top + plot_height - plot_height * value / scale_max, 2), value=value)
        for value in tick_values
    )
    last = len(days) - 1
    labels = tuple(
        DayLabel(x=round(bar.x + bar.width / 2, 2), text=f"{day:%b} {day.day}")
        for index, (bar, day) in enumerate(zip(bars, days, strict=True))
        if (last - index) % label_every == 0
    )
    return TrendChart(
        width=width,
        height=height,
        plot_left=plot_left,
        plot_bottom=plot_top + plot_height,
        bars=bars,
        ticks=ticks,
        labels=labels,
        total=sum(counts),
        peak=peak,
    )
