"""The command line's parts: argument types, shared options, the project and dbt opened for a
command, and the rule that every expected error is one line with its exit code."""

from __future__ import annotations

import functools
import math
from datetime import date, timedelta
from pathlib import Path

import click

from runner.artifacts import ArtifactError
from runner.backfills import DEFAULT_CHUNK_MB, DEFAULT_CHUNK_SIZE, DEFAULT_RETRIES
from runner.dbt import Dbt, end_of_command
from runner.ledger import LedgerError
from runner.partitions import date_range, now, parse_partition_date
from runner.planning import parse_selection
from runner.project import ProjectError, UsageProblem, checked_target, load_project, missing_adapter

LATEST = "latest"


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
    missing = missing_adapter(project)
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
    return click.option("--retries", type=click.IntRange(min=0), default=DEFAULT_RETRIES, show_default=True,
                        help="Tries again, with backoff, after a transient failure (a locked warehouse, an I/O error).")(command)


def chunk_options(command):
    command = click.option("--chunk-mb", "chunk_bytes", type=click.FloatRange(min=0, min_open=True),
                           default=DEFAULT_CHUNK_MB, show_default=True, callback=megabytes_option,
                           help="Most megabytes of daily files per dbt invocation: bounds memory when days are large.")(command)
    return click.option("--chunk-size", type=click.IntRange(min=1), default=DEFAULT_CHUNK_SIZE, show_default=True,
                        help="Most partitions per dbt invocation; 1 builds each partition on its own.")(command)


def output_options(command):
    command = click.option("--json", "as_json", is_flag=True, help="Print one JSON document at the end, nothing else.")(command)
    return click.option("--quiet", is_flag=True, help="Print only the summary.")(command)


def settle_option(command):
    return click.option("--settle", type=click.FloatRange(min=0), default=2.0, show_default=True,
                        help="Seconds a file written just now must stay unchanged before it loads; a file still being "
                             "written (held open) is left for the next run.")(command)
