"""A backfill's plan: which partitions of a range load, why, in which dbt invocations, and which
wait for their files. `runner backfill` (its dry run too) and the console's plan are this one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from runner.arrivals import still_arriving
from runner.backfills import LoadSettings
from runner.cli_parts import prepare
from runner.dbt import Dbt
from runner.holdings import Holdings
from runner.loading import invocations
from runner.planning import Planned, gather, plan
from runner.state_table import WAITING, PartitionStatus, State


@dataclass(frozen=True)
class BackfillPlan:
    """What a backfill of a range would load, and with what: `runner backfill` (its dry run too) and
    the console's plan are this one."""

    dbt: Dbt
    dates: list[date]  # the range
    planned: list[Planned]
    chunks: list[list[date]]  # the dates of each dbt invocation, in order
    waiting: list[PartitionStatus]  # not run: their files have not arrived (or are still being written)
    holdings: Holdings

    @property
    def loading(self) -> list[date]:
        return [item.partition_date for item in self.planned]


def plan_backfill(project, dates: list[date], selection: set[str], settings: LoadSettings,
                  settle: float | None = None) -> BackfillPlan:
    """The plan of a backfill: the partitions in the selected states that have a file, each with
    why, cut into dbt invocations. To load (`settle` given), hand runs the ledger lacks are recorded
    first and a file written in the last `settle` seconds is left for the next run; a dry run
    (`settle` None) writes nothing. Planning needs no dbt (the code's fingerprints are remembered),
    so it costs what status costs; Spark is started first: only its session can check its warehouse."""
    dbt = prepare(project) if project.engine.planning_needs_session else Dbt(project)
    # A load trusts no count: each partition's content is proven.
    evidence = gather(project, dbt, dates, verify=True, record=settle is not None)
    statuses = evidence.statuses(dates)
    planned = plan(statuses, selection, evidence.without_file)
    waiting = [status for status in statuses if status.state in WAITING]
    if settle is not None:
        planned, arriving = complete_files_only(project, planned, settle)
        waiting = sorted(waiting + arriving, key=lambda status: status.partition_date)
    chunks = invocations(project, [item.partition_date for item in planned], settings.chunk_size, settings.chunk_bytes)
    return BackfillPlan(dbt, dates, planned, chunks, waiting, evidence.holdings)


def complete_files_only(project, planned: list[Planned], settle: float) -> tuple[list[Planned], list[PartitionStatus]]:
    """The planned partitions whose files are complete, and the others as awaiting: a file still
    being copied is left for the next run, never read half-way (the watcher's rule, arrivals.py)."""
    arriving = still_arriving([project.source_file(item.partition_date) for item in planned], settle)
    left = [PartitionStatus(item.partition_date, State.AWAITING, message="its file is still being written")
            for item in planned if project.source_file(item.partition_date) in arriving]
    return [item for item in planned if project.source_file(item.partition_date) not in arriving], left
