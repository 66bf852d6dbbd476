"""What the overview shows: the calendars of partition states, their counts, the rows per day.
Read through planning.collect (the same states as `runner status`) and the ledger; no dbt run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from pathlib import Path

import yaml

from runner.artifacts import node_name
from runner.console.glyphs import display_state, legend_states, look
from runner.console.health import MONTHS, Bar, HealthBar, Tick, health_bar, rows_per_day, ticks
from runner.ledger import Ledger, PartitionRun
from runner.model_files import project_config
from runner.planning import Heatmap, collect
from runner.project import Project
from runner.states import PartitionStatus


@dataclass(frozen=True)
class Cell:
    status: PartitionStatus
    state: str
    index: int  # in the calendar's dates
    row: int  # week of the month, 1 = the first
    column: int  # weekday, 1 = Monday

    @property
    def day(self) -> str:
        return self.status.partition_date.isoformat()

    @property
    def day_of_month(self) -> int:
        return self.status.partition_date.day

    @property
    def look(self):
        return look(self.state)


@dataclass
class Month:
    name: str
    weeks: int
    cells: list[Cell] = field(default_factory=list)


@dataclass
class Year:
    year: int
    months: list[Month] = field(default_factory=list)


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
    health: list[HealthBar] = field(default_factory=list)  # the whole partition's, then each model's
    ticks: list[Tick] = field(default_factory=list)  # the health bars' time axis

    @property
    def loading(self) -> bool:
        return any(state == "running" for calendar in self.calendars for state in calendar.states)

    @property
    def failed(self) -> list[PartitionStatus]:
        return [status for status in self.statuses if status.state == "failed" and display_state(status) == "failed"]


def project_name(project: Project) -> str:
    """The dbt project's name (dbt_project.yml), not the folder it happens to sit in."""
    try:
        return str(project_config(project.project_dir).get("name") or project.project_dir.name)
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
    """Each year as its months, each month a calendar as on a wall: a column per weekday (Monday
    first), a row per week, every day with its number."""
    years: list[Year] = []
    for year, days in groupby(range(len(dates)), key=lambda index: dates[index].year):
        strip = Year(year)
        for _, month_days in groupby(days, key=lambda index: dates[index].month):
            month_days = list(month_days)
            first = dates[month_days[0]].replace(day=1)
            last = dates[month_days[-1]]
            offset = first.weekday()
            month = Month(MONTHS[first.month - 1], (offset + last.day - 1) // 7 + 1)
            for index in month_days:
                day = dates[index]
                if shown is None or states[index] in shown:
                    month.cells.append(Cell(statuses[index], states[index], index, (offset + day.day - 1) // 7 + 1, day.weekday() + 1))
            strip.months.append(month)
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
    # One calendar, and a model's own only where that model does not agree with it.
    drawn += [(heatmap, states) for heatmap, states in models
              if any(not _agrees(state, overall_states[i]) for i, state in enumerate(states))]
    calendars = [
        Calendar(heatmap.model or "partition", "All models" if heatmap.model is None else heatmap.model, _subtitle(heatmap),
                 states, heatmap.statuses, _years(dates, states, heatmap.statuses, shown_states))
        for heatmap, states in drawn
    ]
    counts = Counter(overall_states)
    primary = next((h for h in heatmaps if h.model == project.models.primary), overall)
    return Overview(project_name(project), project.project_dir, dates, calendars, overall.statuses,
                    [(state, counts.get(state, 0)) for state in legend_states(set(counts))],
                    *rows_per_day(primary, overall_states), shown_states,
                    [health_bar(heatmap, states, dates) for heatmap, states in [(overall, overall_states), *models]],
                    ticks(dates))
