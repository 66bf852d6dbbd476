"""The command line's parts: the project and dbt opened for a command, its range of partitions, a
backfill's plan (the console's too), and the rule that every expected error is one line with its
exit code. The options and argument types: runner/options.py."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta

import click

from runner.arrivals import still_arriving
from runner.artifacts import ArtifactError
from runner.backfills import LoadSettings
from runner.dbt import Dbt, end_of_command
from runner.holdings import Holdings
from runner.ledger import LedgerError
from runner.loading import invocations
from runner.options import SETTINGS, load_setting, megabytes_option  # noqa: F401 (runner/console/jobs.py imports them from here)
from runner.partitions import date_range, now
from runner.planning import Planned, gather, plan
from runner.profiles import missing_adapter
from runner.project import ProjectError, UsageProblem, checked_target, load_project
from runner.state_table import WAITING, PartitionStatus, State


def expected_errors(command):
    """Library errors become one line and exit 1, never a traceback; the warehouse is let go."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except UsageProblem as error:
            raise click.UsageError(str(error)) from None
        except (ProjectError, LedgerError, ArtifactError) as error:
            raise click.ClickException(str(error)) from None
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM outside a load (which prints its own summary)
            click.echo("runner: interrupted", err=True)
            raise click.exceptions.Exit(130) from None
        finally:
            end_of_command()
    return wrapper


def defined_bounds(project) -> tuple[date, date]:
    try:
        return project.defined_partitions().bounds()
    except ValueError as error:  # a bad RUNNER_NOW
        raise click.UsageError(str(error)) from None


def resolve_range(project, start: date | None, end: date | None, last: int | None = None) -> list[date]:
    defined_start, defined_end = defined_bounds(project)
    end = end or defined_end
    if last is not None:  # the last N partitions up to --end
        if start is not None:
            raise click.UsageError("--last counts back from --end: give it or --start, not both")
        start = end - timedelta(days=last - 1)
    if start is None and end < defined_start:
        if end == defined_end:  # an open end that starts today: no partition is due yet
            return []
        raise click.UsageError(f"--end {end} is before the first defined partition, {defined_start}")
    start = start or defined_start
    if start > end:
        raise click.UsageError(f"--start {start} is after --end {end}")
    return date_range(start, end)



def valid_target(name: str | None) -> str | None:
    try:
        return checked_target(name or None)
    except ProjectError as error:
        raise click.BadParameter(str(error), param_hint="--target") from None


def open_project(ctx, source_dir=None):
    try:
        now()  # a bad RUNNER_NOW is refused whether or not this command reads the clock
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    try:
        project = load_project(ctx.obj["project_dir"], source_dir, ctx.obj["target"])
    except UsageProblem as error:
        raise click.UsageError(str(error)) from None
    except ProjectError as error:
        raise click.ClickException(str(error)) from None
    missing = missing_adapter(project.project_dir, project.target_name, project.adapter)
    if missing:
        raise click.ClickException(missing)
    return project


def prepare(project) -> Dbt:
    """dbt for the project, parsed once for the whole command."""
    dbt = Dbt(project)
    parsed = dbt.parse()
    if parsed.error:
        raise click.ClickException(f"dbt could not parse the project: {parsed.error} (log: {parsed.log_file})")
    return dbt


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
