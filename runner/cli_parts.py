"""The command line's parts: argument types, shared options, the project and dbt opened for a
command, and the rule that every expected error is one line with its exit code."""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import click

from runner import backfills
from runner.arrivals import still_arriving
from runner.artifacts import ArtifactError
from runner.backfills import DEFAULT_CHUNK_MB, DEFAULT_CHUNK_SIZE, DEFAULT_RETRIES, BackfillResult, LoadSettings
from runner.dbt import Dbt, end_of_command
from runner.events import Chunks, json_line, load_events, plan_event, summary_event
from runner.holdings import Holdings
from runner.ledger import LedgerError
from runner.loading import invocations
from runner.partitions import date_range, now, parse_partition_date
from runner.planning import Planned, gather, parse_selection, plan
from runner.profiles import missing_adapter
from runner.project import ProjectError, UsageProblem, checked_target, load_project
from runner.state_table import WAITING, PartitionStatus, State

LATEST = "latest"
# A load's settings as the options take them (the defaults: runner/backfills.py); the console's
# form is checked by the same types (load_setting), so both say the same of a bad value.
SETTINGS = {
    "chunk_size": ("--chunk-size", click.IntRange(min=1), DEFAULT_CHUNK_SIZE),
    "chunk_mb": ("--chunk-mb", click.FloatRange(min=0, min_open=True), DEFAULT_CHUNK_MB),
    "retries": ("--retries", click.IntRange(min=0), DEFAULT_RETRIES),
}


class PartitionDate(click.ParamType):
    """A partition key on the command line: a real date written YYYY-MM-DD (or, where allowed, `latest`)."""

    name = "DATE"

    def __init__(self, latest: bool = False):
        self.latest = latest

    def convert(self, value, param, ctx):
        if isinstance(value, date) or (self.latest and value == LATEST):
            return value
        try:
            return parse_partition_date(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


DATE = PartitionDate()


def megabytes_option(ctx, param, value) -> int:
    """A positive, finite number of megabytes (MiB), as bytes."""
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number of megabytes", ctx, param)
    return max(1, int(value * 2**20))


def load_setting(name: str, value) -> int | float:
    """One of a load's settings (chunk_size, chunk_mb, retries) given as text or a number (None or
    "": its default), checked as its option is on the command line: click.BadParameter, whose
    format_message() is the line the command line prints after "Error: "."""
    option, kind, default = SETTINGS[name]
    value = default if value is None or value == "" else value
    try:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            kind.fail(f"{value!r} is not a number")
        converted = kind.convert(str(value), None, None)
        if name == "chunk_mb":
            megabytes_option(None, None, converted)  # finite
        return converted
    except click.BadParameter as error:
        error.param_hint = f"'{option}'"
        raise


def selection_option(ctx, param, value):
    try:
        return parse_selection(value)
    except ValueError as error:
        raise click.BadParameter(str(error), ctx, param) from None


def source_dir_option(command):
    return click.option(
        "--source-dir", type=click.Path(file_okay=False), default=None,
        help="Folder of the daily files (default: the source_dir var of dbt_project.yml).",
    )(command)


def range_options(command):
    """--start/--end, inclusive, defaulting to the partitions defined in dbt_project.yml."""
    command = click.option("--end", type=DATE, help="Last partition, included (default: partitions_end_date, else the last "
                           "complete day: yesterday, moved by partitions_end_offset).")(command)
    return click.option("--start", type=DATE, help="First partition, included (default: the defined start).")(command)


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


def in_an_existing_folder(ctx, param, value):
    """A file to write whose folder exists: a mistyped path must not make folders (at / even)."""
    if value is not None and not Path(value).parent.is_dir():
        raise click.BadParameter(f"{value}: there is no folder {Path(value).parent}", ctx, param)
    return value


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


def retries_option(command):
    return click.option("--retries", type=SETTINGS["retries"][1], default=DEFAULT_RETRIES, show_default=True,
                        help="Tries again, with backoff, after a transient failure (a locked warehouse, an I/O error).")(command)


def chunk_options(command):
    command = click.option("--chunk-mb", "chunk_bytes", type=SETTINGS["chunk_mb"][1],
                           default=DEFAULT_CHUNK_MB, show_default=True, callback=megabytes_option,
                           help="Most megabytes of daily files per dbt invocation: bounds memory when days are large.")(command)
    return click.option("--chunk-size", type=SETTINGS["chunk_size"][1], default=DEFAULT_CHUNK_SIZE, show_default=True,
                        help="Most partitions per dbt invocation; 1 builds each partition on its own.")(command)


def json_lines_option(command):
    return click.option("--json-lines", is_flag=True,
                        help="Print each event as it happens, one JSON object per line: the plan, each dbt invocation "
                             "as it starts, each partition's outcome, the summary.")(command)


def output_options(command):
    command = click.option("--json", "as_json", is_flag=True, help="Print one JSON document at the end, nothing else.")(command)
    return click.option("--quiet", is_flag=True, help="Print only the summary.")(command)


def settle_option(command):
    return click.option("--settle", type=click.FloatRange(min=0), default=2.0, show_default=True,
                        help="Seconds a file written just now must stay unchanged before it loads; a file still being "
                             "written (held open) is left for the next run.")(command)


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


def stream_backfill(planned: BackfillPlan, settings: LoadSettings, dry_run: bool, started: float) -> int:
    """`backfill --json-lines`: the plan, then (unless a dry run) each dbt invocation as it starts
    and each partition's outcome, then the summary, each event a line on stdout as it happens
    (runner/events.py). Returns the exit code, the same as without --json-lines."""
    def emit(event) -> None:
        click.echo(json_line(event))  # flushed

    emit(plan_event(planned.planned, planned.chunks, len(planned.dates), planned.waiting))
    if dry_run:
        return 0
    result = BackfillResult([])
    if planned.loading:
        dbt = planned.dbt if planned.dbt.parsed else prepare(planned.dbt.project)
        chunks = Chunks()
        result = backfills.backfill(dbt, planned.loading, settings,
                                    lambda outcome: [emit(event) for event in load_events(outcome)], planned.holdings,
                                    lambda dates: emit(chunks.event(dates)))
        if result.set_aside:
            click.echo(f"moved the unreadable warehouse aside: {result.set_aside}", err=True)
    result.wall_seconds = time.monotonic() - started
    emit(summary_event(result))
    return result.exit_code
