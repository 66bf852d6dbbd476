"""The health bars of the overview (Dagster's partition health bar): each model's states over the
whole range as runs of days, their axis, and the rows per day of the primary model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import groupby

from runner.console.glyphs import look
from runner.planning import Heatmap

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Segment:
    """A run of consecutive days in one state: one element of a health bar however many days."""

    start: date
    end: date
    state: str
    first: int  # the index of its first day in the overview's dates

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def look(self):
        return look(self.state)

    @property
    def label(self) -> str:
        span = f"{self.start}" if self.start == self.end else f"{self.start} to {self.end}"
        return f"{span}: {self.look.label} ({self.days} day{'' if self.days == 1 else 's'})"


@dataclass(frozen=True)
class HealthBar:
    """A model's (or the whole partition's) states over the whole range, as runs of days."""

    key: str  # "partition", or the model's name
    title: str
    segments: list[Segment]


@dataclass(frozen=True)
class Tick:
    at: float  # percent of the range from its start
    label: str


@dataclass(frozen=True)
class Bar:
    day: str
    rows: int | None
    state: str
    x: float
    height: float


def segments(dates: list[date], states: list[str]) -> list[Segment]:
    """Consecutive days in the same state as one segment (ten years of one state: one segment)."""
    found: list[Segment] = []
    for state, run in groupby(range(len(dates)), key=lambda index: states[index]):
        run = list(run)
        found.append(Segment(dates[run[0]], dates[run[-1]], state, run[0]))
    return found


def health_bar(heatmap: Heatmap, states: list[str], dates: list[date]) -> HealthBar:
    return HealthBar(heatmap.model or "partition", "All models" if heatmap.model is None else heatmap.model,
                     segments(dates, states))


def ticks(dates: list[date], most: int = 12) -> list[Tick]:
    """The health bars' axis: the finest of month, quarter and year starts that gives at most
    `most` marks (a January is named by its year), none at the ends."""
    total = len(dates)
    # Not at the very ends: the first and last dates are written there.
    starts = [(index, day) for index, day in enumerate(dates) if day.day == 1 and 0.03 <= index / total <= 0.97]
    for every in (1, 3, 12):
        chosen = [(index, day) for index, day in starts if (day.month - 1) % every == 0]
        if len(chosen) <= most:
            return [Tick(round(100 * index / total, 3), str(day.year) if day.month == 1 else MONTHS[day.month - 1])
                    for index, day in chosen]
    years = [(index, day) for index, day in starts if day.month == 1]
    step = -(-len(years) // most)
    return [Tick(round(100 * index / total, 3), str(day.year)) for index, day in years[::step]]


def rows_per_day(primary: Heatmap, states: list[str]) -> tuple[list[Bar], int]:
    """Rows per day of the primary model, for an SVG chart 100 units high, one unit wide per day."""
    rows = [status.rows for status in primary.statuses]
    top = max((count for count in rows if count), default=0)
    bars = [
        Bar(status.partition_date.isoformat(), count, states[index], index, 100 * count / top if top and count else 0)
        for index, (status, count) in enumerate(zip(primary.statuses, rows))
    ]
    return bars, top
