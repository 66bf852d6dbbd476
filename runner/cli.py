"""The `runner` command line: a thin Click layer over the modules that do the work."""

from __future__ import annotations

import functools
import time
from datetime import date

import click

from runner.artifacts import ArtifactError
from runner.dbt import Dbt, release_warehouse
from runner.fingerprints import file_fingerprint
from runner.ledger import Ledger, LedgerError
from runner.loading import Loader
from runner.partitions import date_range, parse_partition_date
from runner.project import PRIMARY_MODEL, ProjectError, load_project
from runner.render import outcome_lines, status_json, status_table
from runner.status import partition_statuses


class PartitionDate(click.ParamType):
    """A partition key on the command line: a real date written YYYY-MM-DD."""

    name = "DATE"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        try:
            return parse_partition_date(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


DATE = PartitionDate()


def source_dir_option(command):
    return click.option(
        "--source-dir", type=click.Path(file_okay=False), default=None,
        help="Folder of the daily files (default: the source_dir var of dbt_project.yml).",
    )(command)


def range_options(command):
    """--start/--end, inclusive, defaulting to the partitions defined in dbt_project.yml."""
    command = click.option("--end", type=DATE, help="Last partition, included (default: the defined end, or today).")(command)
    return click.option("--start", type=DATE, help="First partition, included (default: the defined start).")(command)


def expected_errors(command):
    """Library errors become one line and exit 1, never a traceback; the warehouse is let go."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (ProjectError, LedgerError, ArtifactError) as error:
            raise click.ClickException(str(error)) from None
        finally:
            release_warehouse()
    return wrapper


def resolve_range(project, start: date | None, end: date | None) -> list[date]:
    defined_start, defined_end = project.defined_partitions().bounds()
    start, end = start or defined_start, end or defined_end
    if start > end:
        raise click.UsageError(f"--start {start} is after --end {end}")
    return date_range(start, end)


@click.group()
@click.option("--project-dir", type=click.Path(file_okay=False), default=None,
              help="The dbt project (default: the working directory, else this repository).")
@click.option("--target", default=None, help="The dbt target of profiles.yml (default: DBT_TARGET, else the profile's).")
@click.pass_context
def cli(ctx, project_dir, target):
    """Load daily partitions with dbt, backfill ranges and track every partition."""
    ctx.obj = {"project_dir": project_dir, "target": target}


def open_project(ctx, source_dir=None):
    try:
        return load_project(ctx.obj["project_dir"], source_dir, ctx.obj["target"])
    except ProjectError as error:
        raise click.ClickException(str(error)) from None


def load_dates(project, dates: list[date]) -> int:
    """Seed, then build each partition in order, past failures; print a line each and a summary."""
    dbt = Dbt(project)
    loader = Loader(dbt, Ledger(project.ledger_path), PRIMARY_MODEL)
    started = time.monotonic()
    seeded = dbt.parse() if dbt._manifest is None else None
    if seeded is not None and seeded.error:
        raise click.ClickException(f"dbt could not parse the project: {seeded.error} (log: {seeded.log_file})")
    seeding = dbt.seed()
    if seeding.error:
        raise click.ClickException(f"dbt seed failed: {seeding.error} (log: {seeding.log_file})")
    failures = []
    for day in dates:
        outcome = loader.load([day])
        for line in outcome_lines(outcome):
            click.echo(line)
        if not outcome.ok:
            failures.append((day, outcome.message))
    elapsed = time.monotonic() - started
    click.echo(f"{len(dates) - len(failures)} of {len(dates)} partitions loaded, {len(failures)} failed, in {elapsed:.1f}s")
    for day, message in failures:
        click.echo(f"  failed {day}: {message}", err=True)
    return 1 if failures else 0


@cli.command()
@click.argument("partition", type=DATE)
@source_dir_option
@click.pass_context
@expected_errors
def run(ctx, partition, source_dir):
    """Load one partition (its dbt models and tests), and record the result."""
    ctx.exit(load_dates(open_project(ctx, source_dir), [partition]))


@cli.command()
@range_options
@source_dir_option
@click.pass_context
@expected_errors
def backfill(ctx, start, end, source_dir):
    """Load every partition from --start to --end (inclusive), in order, going on past failures."""
    project = open_project(ctx, source_dir)
    ctx.exit(load_dates(project, resolve_range(project, start, end)))


@cli.command()
@range_options
@source_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@click.option("--model", default=None, help="Only this model's own result per partition.")
@click.pass_context
@expected_errors
def status(ctx, start, end, source_dir, as_json, model):
    """Show each partition's state: materialized, failed, stale or missing."""
    project = open_project(ctx, source_dir)
    dates = resolve_range(project, start, end)
    ledger = Ledger(project.ledger_path)
    pick_up_hand_run(project, ledger)
    runs = ledger.runs(dates[0], dates[-1])
    fingerprints = {day: file_fingerprint(project.source_file(day)) for day in dates}
    statuses = partition_statuses(dates, runs, fingerprints, PRIMARY_MODEL, model)
    click.echo(status_json(statuses) if as_json else status_table(statuses))


def pick_up_hand_run(project, ledger: Ledger) -> None:
    """A `dbt run --vars '{partition_date: ...}'` made by hand leaves target/run_results.json:
    record it once, so status is true whoever ran dbt."""
    path = project.hand_run_results
    if not path.exists():
        return
    try:
        from runner.artifacts import read_run_results

        results = read_run_results(path)
    except ArtifactError:
        return
    if results.partition_dates and results.command in ("run", "build") and not ledger.has_invocation(results.invocation_id):
        Loader(Dbt(project), ledger, PRIMARY_MODEL).record_hand_run(path)


@cli.command()
@click.argument("run_results", type=click.Path(dir_okay=False), required=False)
@source_dir_option
@click.pass_context
@expected_errors
def record(ctx, run_results, source_dir):
    """Record a dbt invocation made by hand (default: target/run_results.json) in the ledger."""
    project = open_project(ctx, source_dir)
    path = run_results or project.hand_run_results
    count = Loader(Dbt(project), Ledger(project.ledger_path), PRIMARY_MODEL).record_hand_run(path)
    click.echo(f"recorded {count} partition(s) from {path}" if count else f"already recorded: {path}")


def main():
    cli(prog_name="runner")
