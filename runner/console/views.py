"""What the overview shows: the calendars of partition states, their counts, the rows per day.
Read through planning.collect (the same states as `runner status`) and the ledger; no dbt run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import groupby
from pathlib import Path

import yaml

from runner.artifacts import node_name
from runner.console.glyphs import display_state, legend_states, look
from runner.ledger import Ledger, PartitionRun
from runner.planning import Heatmap, collect
from runner.project import Project
from runner.states import PartitionStatus

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Cell:
    status: PartitionStatus
    state: str
    index: int  # in the calendar's dates
    row: int  # weekday, 1 = Monday
    column: int  # week of the strip, 1 = the first

    @property
    def day(self) -> str:
        return self.status.partition_date.isoformat()

    @property
    def look(self):
        return look(self.state)


@dataclass
class Year:
    year: int
    weeks: int
    months: list[tuple[int, str]] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)


@dataclass(frozen=True)
class Calendar:
    key: str  # "partition", or the model's name
    title: str
    subtitle: str
    states: list[str]  # one per date, as drawn
    statuses: list[PartitionStatus]
    years: list[Year]

    def counts(self) -> Counter:
        return Counter(self.states)


@dataclass(frozen=True)
class Bar:
    day: str
    rows: int | None
    state: str
    x: float
    height: float


@dataclass(frozen=True)
class Overview:
    project_name: str
    project_dir: Path
    dates: list[date]
    calendars: list[Calendar]
    statuses: list[PartitionStatus]  # the partition as a whole, one per date
    legend: list[tuple[str, int]]  # (state, count) for the partition as a whole
    bars: list[Bar]
    max_rows: int
    shown_states: set[str] | None  # the state filter; None shows every state

    @property
    def loading(self) -> bool:
        return any(state == "running" for calendar in self.calendars for state in calendar.states)

    @property
    def failed(self) -> list[PartitionStatus]:
        return [status for status in self.statuses if status.state == "failed" and display_state(status) == "failed"]


def project_name(project: Project) -> str:
    """The dbt project's name (dbt_project.yml), not the folder it happens to sit in."""
    try:
        with open(project.project_dir / "dbt_project.yml") as handle:
            return str((yaml.safe_load(handle) or {}).get("name") or project.project_dir.name)
    except (OSError, yaml.YAMLError):
        return project.project_dir.name


def skipped_models(runs: list[PartitionRun]) -> set[tuple[date, str]]:
    """(partition, model) pairs whose model did not run in the partition's last invocation that
    ran it, because a node upstream failed."""
    skipped = set()
    models = sorted((run for run in runs if run.resource_type in ("model", "invocation")), key=lambda r: r.partition_date)
    for day, group in groupby(models, key=lambda r: r.partition_date):
        group = list(group)
        for name in {node_name(r.unique_id) for r in group if r.resource_type == "model"}:
            own = [r for r in group if r.resource_type == "invocation" or node_name(r.unique_id) == name]
            last = max(own, key=lambda r: r.recorded_at).invocation_id
            if any(r.invocation_id == last and r.resource_type == "model" and r.status == "skipped" for r in own):
                skipped.add((day, name))
    return skipped


def _years(dates: list[date], states: list[str], statuses: list[PartitionStatus], shown: set[str] | None) -> list[Year]:
    """Each year as a calendar strip: a column per week (Monday first), a row per weekday."""
    years: list[Year] = []
    for year, days in groupby(range(len(dates)), key=lambda index: dates[index].year):
        days = list(days)
        first_monday = dates[days[0]] - timedelta(days=dates[days[0]].weekday())
        strip = Year(year, (dates[days[-1]] - first_monday).days // 7 + 1)
        for index in days:
            day = dates[index]
            column = (day - first_monday).days // 7 + 1
            if day.day == 1 or index == days[0]:
                strip.months.append((column, MONTHS[day.month - 1]))
            if shown is None or states[index] in shown:
                strip.cells.append(Cell(statuses[index], states[index], index, day.weekday() + 1, column))
        years.append(strip)
    return years


def _subtitle(heatmap: Heatmap) -> str:
    if heatmap.model is None:
        return "every node of the partition's last run, as runner status shows it"
    return f"the model's own result, as runner status --model {heatmap.model} shows it"


def _pending(state: str, status: PartitionStatus, pending: dict[str, str] | None) -> str:
    if state == "running" or not pending:
        return state
    return pending.get(status.partition_date.isoformat(), state)


def _agrees(model_state: str, overall: str) -> bool:
    # A model skipped because an upstream node failed says nothing the failed partition does not.
    return model_state == overall or (model_state == "skipped" and overall == "failed")


def build(project: Project, dates: list[date], shown_states: set[str] | None = None,
          heatmaps: list[Heatmap] | None = None, pending: dict[str, str] | None = None) -> Overview:
    """`pending`: the partitions a backfill launched here has yet to finish, running or queued."""
    heatmaps = heatmaps or collect(project, dates)
    skipped = skipped_models(Ledger(project.ledger_path).runs(dates[0], dates[-1]))
    overall = heatmaps[0]
    overall_states = [_pending(display_state(status), status, pending) for status in overall.statuses]
    drawn = [(overall, overall_states)]
    models = [
        (heatmap, [_pending(display_state(status, (status.partition_date, heatmap.model) in skipped), status, pending)
                   for status in heatmap.statuses])
        for heatmap in heatmaps[1:]
    ]
    # One calendar, and a model's own only where the models do not all agree with it.
    if any(not _agrees(state, overall_states[i]) for _, states in models for i, state in enumerate(states)):
        drawn += models
    calendars = [
        Calendar(heatmap.model or "partition", "All models" if heatmap.model is None else heatmap.model, _subtitle(heatmap),
                 states, heatmap.statuses, _years(dates, states, heatmap.statuses, shown_states))
        for heatmap, states in drawn
    ]
    counts = Counter(overall_states)
    primary = next((h for h in heatmaps if h.model == project.models.primary), overall)
    return Overview(project_name(project), project.project_dir, dates, calendars, overall.statuses,
                    [(state, counts.get(state, 0)) for state in legend_states(set(counts))],
                    *_bars(primary, overall_states), shown_states)


def _bars(primary: Heatmap, states: list[str]) -> tuple[list[Bar], int]:
    """Rows per day of the primary model, for an SVG chart 100 units high, one unit wide per day."""
    rows = [status.rows for status in primary.statuses]
    top = max((count for count in rows if count), default=0)
    bars = [
        Bar(status.partition_date.isoformat(), count, states[index], index, 100 * count / top if top and count else 0)
        for index, (status, count) in enumerate(zip(primary.statuses, rows))
    ]
    return bars, top
