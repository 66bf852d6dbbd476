"""Putting together what status and backfill plans need: the ledger, the files and the code as they are now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from runner.dbt import Dbt
from runner.fingerprints import file_fingerprint
from runner.ledger import Ledger, PartitionRun
from runner.project import INCREMENTAL_MODELS, PRIMARY_MODEL, Project
from runner.recording import pick_up_hand_run
from runner.seeds import seed_fingerprints
from runner.states import AWAITING, RUNNING, STATES, PartitionStatus, partition_statuses
from runner.warehouse import Holdings, holdings, holdings_through

DEFAULT_SELECTION = ("missing", "failed", "stale")
# A partition another runner is loading now is never planned: that runner holds the warehouse.
# Nor one whose file has not arrived: there is nothing to load.
SELECTABLE = tuple(state for state in STATES if state not in (RUNNING, AWAITING))


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
    if AWAITING in chosen:
        raise ValueError("awaiting partitions have no file to load yet: choose from " + ", ".join(SELECTABLE) + " or all")
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

    def statuses(self, dates: list[date], model: str | None = None) -> list[PartitionStatus]:
        return partition_statuses(dates, self.runs, self.fingerprints, PRIMARY_MODEL, model, self.code_now,
                                  self.holdings, self.chunk_sizes, self.seeds)


def gather(project: Project, dbt: Dbt, dates: list[date]) -> Evidence:
    ledger = Ledger(project.ledger_path)
    pick_up_hand_run(dbt, ledger)  # it may write: before the reads share one connection
    with ledger.reading():
        runs = ledger.runs(dates[0], dates[-1])
        chunk_sizes = ledger.chunk_sizes({run.invocation_id for run in runs})
    fingerprints = {day: file_fingerprint(project.source_file(day)) for day in dates}
    code_now = dbt.code_fingerprints(first_present(project, dates)) if runs else {}
    held = holdings(project, INCREMENTAL_MODELS, dates[0], dates[-1]) if runs else Holdings()
    if runs and project.target_type != "duckdb" and dbt.parsed:  # a backfill's session is up: ask it
        held = holdings_through(dbt, INCREMENTAL_MODELS, dates[0], dates[-1])
    return Evidence(runs, fingerprints, code_now, held, chunk_sizes, seed_fingerprints(project))


def first_present(project: Project, dates: list[date]) -> date:
    """A day to compile the models for: one whose file is there (the reader opens it), else the first."""
    return next((day for day in dates if project.source_file(day).is_file()), dates[0])


def plan(statuses: list[PartitionStatus], selection: set[str]) -> list[Planned]:
    """The partitions in the selected states, in order, each with the reason it would run."""
    return [
        Planned(status.partition_date, status.state, status.message or status.state)
        for status in statuses
        if status.state in selection
    ]
