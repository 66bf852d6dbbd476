"""Rendering for people: tables and lines (a load's progress: runner/progress.py); where an output
may be JSON instead (--json), the JSON is runner/render_json.py's."""

from __future__ import annotations

import json
from datetime import date
from itertools import groupby

import click

from runner.artifacts import BAD_STATUSES, node_name
from runner.backfills import BackfillResult
from runner.ledger import PartitionRun
from runner.planning import Planned
from runner.render_json import backfill_json, plan_entries
from runner.state_table import STATES, WAITING, State, counts_line, look
from runner.states import AWAITING, LATE, PartitionStatus, invocation_outcome

STATUS_COLUMNS = ("partition_date", "state", "rows", "last_run_at", "invocation_id", "took", "message")


def status_table(statuses: list[PartitionStatus]) -> str:
    rows = [
        [
            str(value) if value is not None else "-"
            for value in (
                status.partition_date, status.state, status.rows,
                status.last_run_at.strftime("%Y-%m-%d %H:%M:%S") if status.last_run_at else None,
                status.invocation_id[:8] if status.invocation_id else None,
                took(status),
                status.message,
            )
        ]
        for status in statuses
    ]
    widths = [max(len(name), *(len(row[i]) for row in rows)) if rows else len(name) for i, name in enumerate(STATUS_COLUMNS)]
    lines = ["  ".join(name.ljust(width) for name, width in zip(STATUS_COLUMNS, widths)).rstrip()]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.append(counts_line([status.state for status in statuses]))
    return "\n".join(lines)


def took(status: PartitionStatus) -> str | None:
    """The partition's share of its invocation's time, and the whole when it was a chunk."""
    if status.duration is None:
        return None
    if (status.chunk_partitions or 1) == 1:
        return f"{status.duration:.2f}s"
    return f"{status.duration:.2f}s ({status.chunk_seconds:.1f}s for a chunk of {status.chunk_partitions})"


def health_bar(statuses: list[PartitionStatus], colour: bool) -> str:
    """One cell per partition: a single bar for a short range, a calendar of months for a long one."""
    def cell(status: PartitionStatus) -> str:
        item = look(State.WARNINGS if status.state == State.MATERIALIZED and status.warnings else status.state)
        return click.style(item.cell, fg=item.cell_colour) if colour else item.cell

    legend = "  ".join(f"{look(state).cell} {look(state).label}" for state in (*STATES, State.WARNINGS))
    if len(statuses) <= 62:
        return "".join(cell(status) for status in statuses) + "\n" + legend
    lines = []
    for month, group in groupby(statuses, key=lambda status: status.partition_date.strftime("%Y-%m")):
        group = list(group)
        # Pad the first month so the days line up in columns.
        lines.append(f"{month} " + " " * (group[0].partition_date.day - 1) + "".join(cell(status) for status in group))
    return "\n".join([*lines, legend])


def plan_table(planned: list[Planned]) -> str:
    return "\n".join(f"{item.partition_date}  {item.state:<12}  {item.reason}" for item in planned)


def history_lines(runs: list[PartitionRun], primary_model: str) -> list[str]:
    """Every recorded run of a partition, newest first, with a line per node (its rows: the primary model's)."""
    lines = []
    by_invocation = {}
    for run in runs:
        by_invocation.setdefault(run.invocation_id, []).append(run)
    for invocation_id, nodes in sorted(by_invocation.items(), key=lambda item: max(r.recorded_at for r in item[1]), reverse=True):
        when = max(r.completed_at or r.recorded_at for r in nodes).strftime("%Y-%m-%d %H:%M:%S")
        warned = sum(1 for r in nodes if r.status == "warn")
        overall = invocation_outcome(nodes)
        if overall == "warnings":
            overall = f"success with {warned} warning{'' if warned == 1 else 's'}"
        rows = next((r.rows_loaded for r in nodes if node_name(r.unique_id) == primary_model), None)
        duration = sum(r.execution_time or 0.0 for r in nodes)
        lines.append(f"{when}  {invocation_id}  {overall}  rows {rows if rows is not None else '-'}  {duration:.2f}s")
        for node in sorted(nodes, key=lambda r: (r.started_at or r.recorded_at, r.unique_id)):
            rows_text = f"  {node.rows_loaded} rows" if node.rows_loaded is not None else ""
            message = f"  {node.message}" if (node.status in BAD_STATUSES or node.status == "warn") and node.message else ""
            lines.append(f"    {node.resource_type:<10} {node_name(node.unique_id):<48} {node.status}{rows_text}"
                         f"  {node.execution_time or 0:.2f}s{message}")
    return lines


def loading_line(dates: list[date], invocations: int, parsed: bool) -> str:
    """What a load is about to do, printed before dbt starts."""
    days = f"{dates[0]}" if len(dates) == 1 else f"{len(dates)} partitions, {dates[0]} to {dates[-1]},"
    what = f"loading {days} in {invocations} dbt invocation{'' if invocations == 1 else 's'}"
    return what if parsed else f"{what} (starting dbt)"


def summary_lines(loaded: int, failed: list[tuple[date, str]], not_run: int, interrupted: bool, seconds: float,
                  wall: float | None = None) -> list[str]:
    """The end of a backfill: counts by outcome, the loads' time and the whole command's, and each
    failure with its cause."""
    parts = [f"{loaded} loaded", f"{len(failed)} failed"]
    if not_run:
        parts.append(f"{not_run} not run")
    took = f" in {seconds:.1f}s" + (f" ({wall:.1f}s in all, with dbt's start-up)" if wall is not None else "")
    head = ("Interrupted: " if interrupted else "") + ", ".join(parts) + took
    return [head, *(f"  failed {day}: {message}" for day, message in failed)]


def days_text(days: list[date]) -> str:
    """Days by name, or their count's first and last: never a range that reads as every day between."""
    if len(days) <= 5:
        return ", ".join(str(day) for day in days)
    return f"the first {days[0]}, the last {days[-1]}"


def waiting_lines(waiting: list[PartitionStatus]) -> list[str]:
    """The days a backfill did not run because their files have not arrived: awaiting, then late."""
    lines = []
    for state, what in ((AWAITING, "awaiting {their} (not run)"), (LATE, "late: {their} past the deadline (not run)")):
        days = [status.partition_date for status in waiting if status.state == state]
        if days:
            their = "its file" if len(days) == 1 else "their files"
            lines.append(f"{len(days)} {what.format(their=their)}{':' if len(days) <= 5 else ','} {days_text(days)}")
    return lines


def watch_line(event: dict) -> tuple[str, bool]:
    """`runner watch`'s line for one event, and whether it goes to stderr (all but the loads)."""
    kind, day = event["event"], event.get("partition_date")
    if kind == "load":
        if event["outcome"] == "loaded":
            rows = event["rows"] if event["rows"] is not None else "?"
            return f"{day}  loaded  {rows} rows  ({event['seconds']:.2f}s)", False
        return f"{day}  failed  {event['message']}  ({event['seconds']:.2f}s)", False
    if kind == "watching":
        how = f"looking every {event['poll']:g}s" if event["poll"] else "on file events"
        return (f"watching {event['path']} ({how}; a file loads once unchanged for {event['settle']:g}s, or at once "
                "when renamed into place); Ctrl-C to stop"), True
    if kind == "caught_up":
        line = f"caught up: {event['loaded']} loaded, {event['failed']} failed"
        for state in WAITING:
            days = [date.fromisoformat(day) for day in event[state]["dates"]]
            if days:
                line += f"; {len(days)} {state}: {days_text(days)}"
        return line, False
    if kind == "skipped":
        return f"{day}  not loaded: {event['state']} ({event['message']})", True
    if kind == "deleted":
        return f"{day}  file deleted: {event['path']} ({event['message']})", True
    if kind == "early":
        return f"{day}  early: {event['path']} ({event['message']})", True
    if kind == "ignored":
        return f"ignored {event['path']}: {event['message']}", True
    return f"{kind}: {event['message']}" if event.get("message") else kind, True


def dry_run_output(planned: list[Planned], chunks: list[list[date]], total: int, waiting: list[PartitionStatus],
                   as_json: bool) -> str:
    """The plan of `backfill --dry-run`: each partition and why, and how many dbt invocations."""
    if as_json:
        return json.dumps(plan_entries(planned, chunks), indent=2)
    lines = [plan_table(planned)] if planned else []
    lines.append(f"{len(planned)} of {total} partitions would run in {len(chunks)} dbt "
                 f"invocation{'' if len(chunks) == 1 else 's'} (dry run: nothing changed)")
    return "\n".join(lines + waiting_lines(waiting))


def nothing_to_do_output(dates: list[date], selection: set[str], waiting: list[PartitionStatus], as_json: bool) -> str:
    if as_json:
        return backfill_json([], [], False, 0.0, waiting)
    if not dates:
        return "Nothing to do: no partition is defined yet (the first one is due when its day closes)."
    line = f"Nothing to do: no partition from {dates[0]} to {dates[-1]} is {' or '.join(sorted(selection))}."
    return "\n".join([line] + waiting_lines(waiting))


def backfill_summary(result: BackfillResult, waiting: list[PartitionStatus], as_json: bool) -> list[tuple[str, bool]]:
    """The end of a backfill: its lines, each with whether it goes to stderr (the failures, and with
    --json everything but the one JSON document)."""
    lines = [(f"moved the unreadable warehouse aside: {result.set_aside}", as_json)] if result.set_aside else []
    if as_json:
        return [*lines, (backfill_json(result.outcomes, result.dates, result.interrupted, result.seconds, waiting,
                                       result.wall_seconds), False)]
    summary = summary_lines(result.loaded, result.failed, result.not_run, result.interrupted, result.seconds,
                            result.wall_seconds)
    lines += [(line, line.startswith("  failed")) for line in summary]
    return lines + [(line, False) for line in waiting_lines(waiting)]
