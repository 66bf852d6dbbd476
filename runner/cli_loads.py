"""A backfill as the command line runs it: the planned dates loaded with a progress bar or a line
each, then the summary (load_and_report); or each event a JSON line as it happens (stream_backfill)."""

from __future__ import annotations

import sys
import time
from datetime import date

import click

from runner import backfills
from runner.backfill_plan import BackfillPlan
from runner.backfill_records import Origin
from runner.backfills import BackfillResult, LoadSettings
from runner.cli_parts import prepare
from runner.dbt import Dbt
from runner.events import Chunks, json_line, load_events, plan_event, summary_event
from runner.holdings import Holdings
from runner.loading import invocations
from runner.progress import Progress
from runner.render import backfill_summary, loading_line
from runner.states import PartitionStatus


def load_and_report(dbt: Dbt, dates: list[date], settings: LoadSettings, quiet: bool = False, as_json: bool = False,
                    waiting: list[PartitionStatus] | None = None, looked: Holdings | None = None,
                    started: float | None = None, origin: Origin | None = None) -> int:
    """Say what is about to load (before dbt starts: the first line comes at once), load the dates
    with progress, then print the summary. Returns the exit code. `origin`: the backfill's record
    (runner/backfill_records.py)."""
    if not (quiet or as_json) and sys.stderr.isatty():  # someone waits at a terminal: answer at once
        chunks = invocations(dbt.project, dates, settings.chunk_size, settings.chunk_bytes)
        click.echo(loading_line(dates, len(chunks), dbt.parsed), err=True)
    if not dbt.parsed:
        dbt = prepare(dbt.project)
    progress = Progress(len(dates), enabled=not (quiet or as_json) and sys.stdout.isatty(), lines=not (quiet or as_json))
    with progress:
        result = backfills.backfill(dbt, dates, settings, progress.advance, looked, origin=origin)
    result.wall_seconds = time.monotonic() - started if started is not None else None
    for line, to_stderr in backfill_summary(result, waiting or [], as_json):
        click.echo(line, err=to_stderr)
    return result.exit_code


def stream_backfill(planned: BackfillPlan, settings: LoadSettings, dry_run: bool, started: float,
                    origin: Origin | None = None) -> int:
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
                                    lambda dates: emit(chunks.event(dates)), origin)
        if result.set_aside:
            click.echo(f"moved the unreadable warehouse aside: {result.set_aside}", err=True)
    result.wall_seconds = time.monotonic() - started
    emit(summary_event(result))
    return result.exit_code
