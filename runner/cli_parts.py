"""The command line's parts: the project and dbt opened for a command, its range of partitions, and
the rule that every expected error is one line with its exit code. The options and argument types:
runner/options.py; a backfill's plan: runner/backfill_plan.py."""

from __future__ import annotations

import functools
from datetime import date, timedelta

import click

from runner.artifacts import ArtifactError
from runner.dbt import Dbt, end_of_command
from runner.ledger import LedgerError
from runner.ledger_snapshot import ledger_signature, write_snapshot
from runner.partitions import date_range, now
from runner.profiles import missing_adapter
from runner.project import ProjectError, UsageProblem, checked_target, load_project


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
    if project.engine.copies_ledger_for_dbt:
        ctx.call_on_close(functools.partial(refresh_snapshot, project, ledger_signature(project.ledger_path)))
    return project


def refresh_snapshot(project, before: tuple) -> None:
    """At the end of a command (however it ends): copy the ledger for dbt if the command wrote it."""
    if ledger_signature(project.ledger_path) != before and project.ledger_path.exists():
        write_snapshot(project.ledger_path, project.warehouse_path)


def prepare(project) -> Dbt:
    """dbt for the project, parsed once for the whole command."""
    dbt = Dbt(project)
    parsed = dbt.parse()
    if parsed.error:
        raise click.ClickException(f"dbt could not parse the project: {parsed.error} (log: {parsed.log_file})")
    return dbt
