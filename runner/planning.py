"""Putting together what status and backfill plans need: the ledger, the files and the code as they are now."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from runner.arrivals import held_for_writing
from runner.artifacts import node_name
from runner.dbt import Dbt
from runner.fingerprints import file_fingerprint
from runner.holdings import Holdings
from runner.ledger import Ledger, PartitionRun
from runner.project import Project
from runner.recording import unrecorded_hand_runs, warehouse_changed
from runner.seeds import seed_fingerprints
from runner.state_table import SELECTABLE, WAITING, State
from runner.states import STILL_ARRIVING, PartitionStatus, partition_statuses

DEFAULT_SELECTION = (State.MISSING, State.FAILED, State.STALE)
# A partition another runner is loading now is never planned: that runner holds the warehouse.
# Nor one whose file has not arrived (awaiting, late): there is nothing to load.


@dataclass(frozen=True)
class Planned:
    """A partition a backfill would load, and why."""

    partition_date: date
    state: str
    reason: str

    def as_dict(self) -> dict:
        return {"partition_date": self.partition_date.isoformat(), "state": self.state, "reason": self.reason}


def parse_selection(text: str) -> set[str]:
    """--only: a comma list of states, or `all`; ValueError naming what is not a state."""
    chosen = {part.strip() for part in text.split(",") if part.strip()}
    if "all" in chosen and chosen <= {"all", *SELECTABLE}:  # all, whatever else is named with it
        return set(SELECTABLE)
    for state in chosen & set(WAITING):
        raise ValueError(f"{state} partitions have no file to load yet: choose from " + ", ".join(SELECTABLE) + " or all")
    unknown = chosen - set(SELECTABLE)
    if unknown or not chosen:
        raise ValueError(f"{', '.join(sorted(unknown)) or 'nothing'} is not a state to load: choose from {', '.join(SELECTABLE)} or all")
    return chosen


@dataclass(frozen=True)
class Evidence:
    """What the partitions' states are judged on, each read once: the ledger's runs, and the files,
    the code and the warehouse as they are now."""

    runs: list[PartitionRun]
    fingerprints: dict[date, str | None]
    code_now: dict[str, str]
    holdings: Holdings
    chunk_sizes: dict[str, int]
    seeds: dict[str, str]
    primary_model: str
    late_before: date | None = None

    def statuses(self, dates: list[date], model: str | None = None) -> list[PartitionStatus]:
        return partition_statuses(dates, self.runs, self.fingerprints, self.primary_model, model, self.code_now,
                                  self.holdings, self.chunk_sizes, self.seeds, self.late_before)

    @property
    def without_file(self) -> set[date]:
        """The days with no file to load now: not there, or still being written."""
        return {day for day, fingerprint in self.fingerprints.items() if fingerprint in (None, STILL_ARRIVING)}


def fingerprint_now(path) -> str | None:
    """The file's fingerprint, or STILL_ARRIVING while a process holds it open for writing (a copy
    under way: what it holds now is not the day's file)."""
    fingerprint = file_fingerprint(path)
    return STILL_ARRIVING if fingerprint is not None and held_for_writing(path) else fingerprint


def gather(project: Project, dbt: Dbt, dates: list[date], verify: bool = False, record: bool = False) -> Evidence:
    """The evidence on these dates. The warehouse's content is hashed again with `verify` (loads
    plan so), or when something other than the runner wrote to it since the runner's last write
    (a hand edit, a restored copy); otherwise its rows are counted, as cheap as a count is. Hand
    runs the ledger lacks are recorded with `record` (a load's planning), else only shown: a look
    never writes."""
    late_before = project.defined_partitions().late_before()
    if not dates:  # an open end that starts today: nothing is due yet
        return Evidence([], {}, {}, Holdings(), {}, {}, project.models.primary, late_before)
    ledger = Ledger(project.ledger_path)
    with ledger.reading():
        changed = warehouse_changed(project, ledger)
        runs, chunk_sizes = ledger_evidence(ledger, dates)
    # A hand run changes the warehouse (an engine without a change mark keeps dbt's artifact instead).
    hand = unrecorded_hand_runs(dbt, ledger) if changed or not project.engine.keeps_hand_runs else []
    if hand and record:
        ledger.record(hand)
        with ledger.reading():
            runs, chunk_sizes = ledger_evidence(ledger, dates)
    elif hand:
        runs = runs + [run for run in hand if dates[0] <= run.partition_date <= dates[-1]]
        chunk_sizes = {**chunk_sizes, **partitions_per_invocation(hand)}
    fingerprints = {day: fingerprint_now(project.source_file(day)) for day in dates}
    code_now = dbt.code_fingerprints(first_present(project, dates)) if runs else {}
    verify = verify or (bool(runs) and changed)
    held = project.engine.holdings(dbt, project.models.incremental, dates[0], dates[-1], verify) if runs else Holdings()
    return Evidence(runs, fingerprints, code_now, held, chunk_sizes, seed_fingerprints(project), project.models.primary,
                    late_before)


def partitions_per_invocation(runs: list[PartitionRun]) -> dict[str, int]:
    """As Ledger.chunk_sizes counts them, for runs not in the ledger."""
    days: dict[str, set[date]] = {}
    for run in runs:
        days.setdefault(run.invocation_id, set()).add(run.partition_date)
    return {invocation: len(found) for invocation, found in days.items()}


def ledger_evidence(ledger: Ledger, dates: list[date]) -> tuple[list[PartitionRun], dict[str, int]]:
    runs = ledger.runs(dates[0], dates[-1])
    return runs, ledger.chunk_sizes({run.invocation_id for run in runs})


def first_present(project: Project, dates: list[date]) -> date:
    """A day to compile the models for: one whose file is there (the reader opens it), else the first."""
    return next((day for day in dates if project.source_file(day).is_file()), dates[0])


def plan(statuses: list[PartitionStatus], selection: set[str], without_file: set[date] = frozenset()) -> list[Planned]:
    """The partitions in the selected states, in order, each with the reason it would run; never
    one without a file to load (a loaded day whose file went keeps its rows: it is no failure)."""
    return [
        Planned(status.partition_date, status.state, status.message or status.state)
        for status in statuses
        if status.state in selection and status.partition_date not in without_file
    ]


@dataclass(frozen=True)
class Heatmap:
    """One calendar: the partitions' states for one model, or for the partition as a whole (model None)."""

    title: str
    model: str | None
    statuses: list[PartitionStatus]

    def counts(self) -> Counter:
        return Counter(status.state for status in self.statuses)


def collect(project: Project, dates: list[date]) -> list[Heatmap]:
    """The heatmaps the console and the report draw: the partition as `runner status` shows it, then
    each partitioned model's own node as `runner status --model NAME` shows it, read once."""
    evidence = gather(project, Dbt(project), dates)
    found = {node_name(run.unique_id) for run in evidence.runs if run.resource_type == "model"}
    partitioned = project.models.partitioned
    models = [*partitioned, *sorted(found - set(partitioned))]
    heatmaps = [Heatmap("All nodes", None, evidence.statuses(dates))]
    heatmaps += [Heatmap(model, model, evidence.statuses(dates, model)) for model in models]
    return heatmaps
