"""Putting together what status and backfill plans need: the ledger, the files and the code as they are now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from runner.artifacts import ArtifactError, read_run_results
from runner.dbt import Dbt
from runner.fingerprints import file_fingerprint
from runner.ledger import Ledger
from runner.loading import Loader
from runner.project import PRIMARY_MODEL, Project
from runner.status import STATES, PartitionStatus, partition_statuses

DEFAULT_SELECTION = ("missing", "failed", "stale")


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
    if chosen == {"all"}:
        return set(STATES)
    unknown = chosen - set(STATES)
    if unknown or not chosen:
        raise ValueError(f"{', '.join(sorted(unknown)) or 'nothing'} is not a state: choose from {', '.join(STATES)} or all")
    return chosen


def pick_up_hand_run(dbt: Dbt, ledger: Ledger) -> None:
    """A `dbt run --vars '{partition_date: ...}'` made by hand leaves target/run_results.json:
    record it once, so status is true whoever ran dbt. A run on another target belongs to that
    target's ledger: `runner --target T status` picks it up."""
    path = dbt.project.hand_run_results
    # Nothing to pick up: no readable file, another command (compile, test), a run on another target
    # or without partitions, or one whose tables are gone. One recorded before is skipped.
    try:
        results = read_run_results(path)
        if results.command in ("run", "build"):
            Loader(dbt, ledger, PRIMARY_MODEL).record_hand_run(path, results)
    except ArtifactError:
        return


def current_statuses(project: Project, dbt: Dbt, dates: list[date], model: str | None = None) -> list[PartitionStatus]:
    """Every partition's state now: the ledger, against the files' and the code's fingerprints."""
    ledger = Ledger(project.ledger_path)
    pick_up_hand_run(dbt, ledger)
    runs = ledger.runs(dates[0], dates[-1])
    fingerprints = {day: file_fingerprint(project.source_file(day)) for day in dates}
    code_now = dbt.code_fingerprints(dates[0]) if runs else {}
    return partition_statuses(dates, runs, fingerprints, PRIMARY_MODEL, model, code_now)


def plan(statuses: list[PartitionStatus], selection: set[str]) -> list[Planned]:
    """The partitions in the selected states, in order, each with the reason it would run."""
    return [
        Planned(status.partition_date, status.state, status.message or status.state)
        for status in statuses
        if status.state in selection
    ]
