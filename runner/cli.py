"""The `runner` command line: a thin Click layer over the modules that do the work."""

from __future__ import annotations

import json
import sys
import time

import click

from runner import cli_show
from runner.arrivals import still_arriving
from runner.backfill_plan import plan_backfill
from runner.backfill_records import Origin
from runner.backfills import LoadSettings
from runner.cli_loads import load_and_report, stream_backfill
from runner.cli_parts import defined_bounds, expected_errors, open_project, prepare, resolve_range, valid_target
from runner.dbt import Dbt
from runner.fingerprints import Unreadable, file_fingerprint
from runner.forgetting import forget as forget_partitions
from runner.ledger import Ledger
from runner.options import (
    DATE,
    LATEST,
    PartitionDate,
    chunk_options,
    json_lines_option,
    output_options,
    range_options,
    retries_option,
    selection_option,
    settle_option,
    source_dir_option,
    started_by_option,
)
from runner.planning import DEFAULT_SELECTION
from runner.recording import record_hand_run, unrecorded_hand_runs
from runner.render import dry_run_output, nothing_to_do_output, watch_line
from runner.render_json import backfill_json
from runner.states import AWAITING, PartitionStatus
from runner.watch_lock import AnotherWatcher, one_watcher
from runner.watching import Watcher, WatchSettings


@click.group()
@click.option("--project-dir", type=click.Path(file_okay=False), default=None,
              help="The dbt project (default: the working directory, else this repository).")
@click.option("--target", envvar="DBT_TARGET", default=None, callback=lambda ctx, param, value: valid_target(value),
              help="The dbt target of profiles.yml (default: DBT_TARGET, else the profile's).")
@click.pass_context
def cli(ctx, project_dir, target):
    """Load daily partitions with dbt, backfill ranges and track every partition."""
    # When the command began: a load's summary says how long it took with dbt's start-up too.
    ctx.obj = {"project_dir": project_dir, "target": target, "started": time.monotonic()}


# The commands that only show (runner/cli_show.py); those that load, record or forget are below.
for command in (cli_show.status, cli_show.history, cli_show.backfills, cli_show.report, cli_show.docs, cli_show.ui):
    cli.add_command(command)


@cli.command()
@click.argument("partition", type=PartitionDate(latest=True))
@source_dir_option
@retries_option
@click.option("--awaiting-exit-code", type=click.IntRange(0, 255), default=0, show_default=True,
              help="The exit code when the partition's file has not arrived (nothing is run or recorded); "
                   "99 shows an Airflow BashOperator task as skipped.")
@settle_option
@output_options
@click.pass_context
@expected_errors
def run(ctx, partition, source_dir, retries, awaiting_exit_code, settle, quiet, as_json):
    """Load one partition (its dbt models and tests), whatever its state, and record the result.
    PARTITION is a date, or `latest`: the last defined partition (for a daily schedule)."""
    project = open_project(ctx, source_dir)
    partition = defined_bounds(project)[1] if partition == LATEST else partition
    path = project.source_file(partition)
    # Nothing to load or record, and no failure: the file may come yet, or is still being copied.
    why = ("no file at {path} yet" if not has_arrived(path)
           else "its file {path} is still being written" if still_arriving([path], settle) else None)
    if why:
        click.echo(f"{partition}: {why.format(path=path)}: the partition awaits it (nothing run)", err=True)
        if as_json:
            click.echo(backfill_json([], [], False, 0.0, [PartitionStatus(partition, AWAITING)]))
        ctx.exit(awaiting_exit_code)
    ctx.exit(load_and_report(Dbt(project), [partition], LoadSettings(retries=retries), quiet, as_json,
                             started=ctx.obj["started"], origin=Origin("run", partition, partition, "all")))


def has_arrived(path) -> bool:
    """Whether a partition's file is there to load. Anything at the path counts: a folder or a FIFO
    there fails the partition (`not a regular file`) rather than waiting for ever, and so does one
    that cannot be read (a symlink loop, which exists() denies): its load says why."""
    return path.exists() or isinstance(file_fingerprint(path), Unreadable)


@cli.command()
@range_options
@source_dir_option
@click.option("--only", "selection", default=",".join(DEFAULT_SELECTION), show_default=True, callback=selection_option,
              help="States to load, comma-separated: missing, failed, stale, materialized, or all.")
@click.option("--last", type=click.IntRange(min=1), default=None,
              help="The last N days up to --end (default: the defined end), instead of --start; those of them "
                   "that need it load (--only).")
@click.option("--dry-run", is_flag=True, help="Print the plan (each partition and why it would run); change nothing.")
@chunk_options
@retries_option
@click.option("--fail-fast", is_flag=True, help="Stop at the first failed partition.")
@settle_option
@output_options
@json_lines_option
@started_by_option
@click.pass_context
@expected_errors
def backfill(ctx, start, end, last, source_dir, selection, dry_run, chunk_size, chunk_bytes, retries, fail_fast, settle,
             quiet, as_json, json_lines, started_by):
    """Load the partitions from --start to --end (inclusive) that need it, in order, going on past failures."""
    if as_json and json_lines:
        raise click.UsageError("--json prints one document at the end, --json-lines each event: choose one")
    project = open_project(ctx, source_dir)
    dates = resolve_range(project, start, end, last)
    settings = LoadSettings(chunk_size, chunk_bytes, retries, fail_fast)
    planned = plan_backfill(project, dates, selection, settings, None if dry_run else settle)
    # An empty range (an open end whose first day has not closed) loads nothing: nothing to record.
    origin = Origin(started_by, dates[0], dates[-1], ",".join(sorted(selection))) if dates else None
    if json_lines:
        ctx.exit(stream_backfill(planned, settings, dry_run, ctx.obj["started"], origin))
    if dry_run:
        click.echo(dry_run_output(planned.planned, planned.chunks, len(dates), planned.waiting, as_json))
    elif not planned.planned:
        click.echo(nothing_to_do_output(dates, selection, planned.waiting, as_json))
    else:
        ctx.exit(load_and_report(planned.dbt, planned.loading, settings, quiet, as_json, planned.waiting,
                                 planned.holdings, ctx.obj["started"], origin))


@cli.command()
@source_dir_option
@click.option("--settle", type=click.FloatRange(min=0), default=2.0, show_default=True,
              help="Seconds a file must stay unchanged before it loads; a file renamed into place loads at once.")
@click.option("--poll", type=click.FloatRange(min=0.05), default=None,
              help="Look at the folder every POLL seconds instead of waiting for file events (network folders).")
@click.option("--once", is_flag=True, help="Catch up and exit, with backfill's exit codes (for cron); "
              "exit 0 at once, doing nothing, while another `runner watch` watches this warehouse.")
@chunk_options
@retries_option
@click.option("--retry-after", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Seconds before a load that failed on a lock or an I/O error (after its --retries) is tried again.")
@click.option("--rescan", type=click.FloatRange(min=1), default=600.0, show_default=True,
              help="Seconds between catch-ups of the whole range, a safety net for events that never came.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line for each load and event.")
@click.pass_context
@expected_errors
def watch(ctx, source_dir, settle, poll, once, chunk_size, chunk_bytes, retries, retry_after, rescan, as_json):
    """Load each daily file as it lands in the source folder, after catching up (a sensor)."""
    project = open_project(ctx, source_dir)
    defined_bounds(project)  # a bad partition setting is a usage error before anything starts
    if not once and not project.source_dir.is_dir():
        raise click.UsageError(f"the source folder {project.source_dir} does not exist: create it, or give --source-dir")

    def report(event):
        line, to_stderr = (json.dumps(event), False) if as_json else watch_line(event)
        click.echo(line, err=to_stderr)

    try:
        with one_watcher(project):
            if not as_json and sys.stderr.isatty():  # someone waits at a terminal: answer before dbt starts
                click.echo(f"catching up on {project.source_dir} first (starting dbt)" if not once
                           else f"catching up on {project.source_dir}", err=True)
            # Kept parsed for as long as it watches; --once parses only when there is something to load.
            dbt = prepare(project) if not once or project.engine.planning_needs_session else Dbt(project)
            watcher = Watcher(dbt, LoadSettings(chunk_size, chunk_bytes, retries), WatchSettings(settle, poll, retry_after, rescan),
                              report)
            code = watcher.once() if once else watcher.run()
    except AnotherWatcher as other:
        if not once:
            raise
        # The running watcher has caught up and loads each file as it lands: a nightly --once beside
        # it (a timer, a cron line) has nothing to add, and is no error.
        report({"event": "deferred", "pid": int(other.holder) if other.holder.isdigit() else None,
                "message": f"runner watch (PID {other.holder}) is loading this warehouse's files; nothing done"})
        code = 0
    ctx.exit(code)


@cli.command()
@click.argument("run_results", type=click.Path(dir_okay=False), required=False)
@source_dir_option
@click.pass_context
@expected_errors
def record(ctx, run_results, source_dir):
    """Record dbt invocations made by hand in the ledger: those the warehouse keeps and
    target/run_results.json, or the run_results.json given."""
    project = open_project(ctx, source_dir)
    dbt, ledger = Dbt(project), Ledger(project.ledger_path)
    kept = unrecorded_hand_runs(dbt, ledger) if run_results is None and project.engine.keeps_hand_runs else []
    if kept:  # status and the console show these without recording them: reads never write
        ledger.record(kept)
        click.echo(f"recorded {len({run.invocation_id for run in kept})} hand run(s) kept in {project.warehouse_path}")
    path = run_results or project.hand_run_results
    if kept and not path.is_file():  # the hooks kept them all: no artifact of dbt's is needed
        return
    count = record_hand_run(dbt, ledger, path)
    click.echo(f"recorded {count} partition(s) from {path}" if count else f"already recorded: {path}")


@cli.command()
@click.argument("partitions", nargs=-1, required=True, type=DATE)
@source_dir_option
@click.pass_context
@expected_errors
def forget(ctx, partitions, source_dir):
    """Remove loaded partitions whose files are gone for good: their rows leave the warehouse and the
    ledger records them forgotten (their history stays). They await their files again."""
    project = open_project(ctx, source_dir)
    for day in partitions:
        if has_arrived(project.source_file(day)):
            raise click.UsageError(f"{day}: its file {project.source_file(day)} is there: load it again "
                                   f"(runner run {day}) rather than forget it")
    removed = forget_partitions(prepare(project), Ledger(project.ledger_path), sorted(set(partitions)))
    for day, held in removed.items():
        rows = " and ".join(f"{count} row{'' if count == 1 else 's'} of {model}" for model, count in held.items())
        click.echo(f"{day}: forgotten ({rows or 'no rows'} removed); it awaits its file")


def main():
    cli(prog_name="runner")
