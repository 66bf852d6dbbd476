"""The state of each partition, from the ledger and the files as they are now."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby

from runner.artifacts import BAD_STATUSES, node_name, shortened
from runner.content import differs
from runner.fingerprints import Unreadable
from runner.holdings import Holdings
from runner.ledger import PartitionRun
from runner.seeds import changed_seed
from runner.state_table import State

RUNNING, AWAITING, LATE = State.RUNNING, State.AWAITING, State.LATE
FORGOTTEN = "forgotten"  # the ledger's marker of a partition removed by `runner forget`
# A partition's fingerprint now when its file is there but still being written (held open for
# writing): not yet a file to load, and it matches no recorded file.
STILL_ARRIVING = "still being written"
# A partition's recorded file fingerprint when the file changed after the run that loaded it began:
# what was loaded is unknown, so it matches no file.
CHANGED_AFTER_THE_RUN = "changed after the run"
RUNNING_PID = re.compile(r"runner PID (\d+)")


@dataclass(frozen=True)
class CheckWarning:
    """A plausibility check (a test with severity warn, or one rule of such a test of several) that
    found rows in the partition."""

    check: str
    rows: int | None
    message: str | None
    test: str  # the test the rule is one of; for a test of one rule, its name is the check too

    def as_dict(self) -> dict:
        return {"check": self.check, "test": self.test, "rows": self.rows, "message": self.message}


@dataclass(frozen=True)
class PartitionStatus:
    partition_date: date
    state: str
    rows: int | None = None
    invocation_id: str | None = None
    last_run_at: datetime | None = None
    duration: float | None = None  # this partition's share of its invocation's time
    message: str | None = None
    warnings: tuple[CheckWarning, ...] = ()
    chunk_seconds: float | None = None  # the whole invocation's time ...
    chunk_partitions: int | None = None  # ... and how many partitions it loaded

    def as_dict(self) -> dict:
        return {
            "partition_date": self.partition_date.isoformat(),
            "state": self.state,
            "rows": self.rows,
            "invocation_id": self.invocation_id,
            "last_run_at": self.last_run_at.isoformat(timespec="seconds") + "Z" if self.last_run_at else None,
            "duration_seconds": self.duration,
            "message": self.message,
            "warnings": [warning.as_dict() for warning in self.warnings],
            "chunk_seconds": self.chunk_seconds,
            "chunk_partitions": self.chunk_partitions,
        }


def failure_message(runs: list[PartitionRun]) -> str | None:
    """What went wrong, named by its node: a model before a test, skips only when nothing else
    failed. In node order, not finishing order, which varies when nodes run side by side."""
    bad = sorted((run for run in runs if run.status in BAD_STATUSES), key=lambda run: run.unique_id)
    first = next((run for run in bad if run.status != "skipped"), bad[0] if bad else None)
    if first is None:
        return None
    name, message = node_name(first.unique_id), first.message or first.status
    # checks.describe names it; the node's name must not take the message past its cap
    return message if message.startswith(f"{name} ") else shortened(f"{name}: {message}")


def warnings_of(latest: list[PartitionRun]) -> tuple[CheckWarning, ...]:
    """The checks that warned in the partition's last run, in node order."""
    warnings = []
    for run in sorted((run for run in latest if run.status == "warn"), key=lambda run: run.unique_id):
        test = node_name(run.unique_id)
        # A test of several rules is a warning per rule that found rows; a test of one, one warning.
        by_rule = json.loads(run.failures_by_rule) if run.failures_by_rule else {test: run.failures}
        warnings += [CheckWarning(rule, rows, run.message, test) for rule, rows in by_rule.items()]
    return tuple(warnings)


def with_warnings(message: str, warnings: tuple[CheckWarning, ...]) -> str:
    """OK, or OK with the checks that warned: `OK, 1 warning: dated_near_the_file (12 rows)`."""
    if not warnings:
        return message
    named = ", ".join(f"{warning.check} ({warning.rows} row{'' if warning.rows == 1 else 's'})" if warning.rows is not None
                      else warning.check for warning in warnings)
    return f"{message}, {len(warnings)} warning{'' if len(warnings) == 1 else 's'}: {named}"


def invocation_outcome(nodes: list[PartitionRun]) -> str:
    """What one invocation did to a partition, from its nodes: running, interrupted or forgotten (the
    runner's markers), else failed, warnings or success."""
    statuses = {node.status for node in nodes}
    marker = next((marker for marker in (RUNNING, "interrupted", FORGOTTEN) if marker in statuses), None)
    return marker or ("failed" if statuses & BAD_STATUSES else "warnings" if "warn" in statuses else "success")


def latest_invocation(runs: list[PartitionRun]) -> list[PartitionRun]:
    """The rows of the last invocation that ran the partition: by when it ran, not when it was
    recorded (an older run_results.json recorded later does not override a newer run)."""
    last = max(runs, key=lambda run: (run.completed_at or run.recorded_at, run.recorded_at))
    return [run for run in runs if run.invocation_id == last.invocation_id]


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def in_flight(latest: list[PartitionRun]) -> tuple[str, str] | None:
    """For a partition whose last record is the runner's in-flight marker: running while that
    runner lives, else failed (interrupted)."""
    marker = next((run for run in latest if run.status == RUNNING), None)
    if marker is None:
        return None
    pid = RUNNING_PID.search(marker.message or "")
    if pid and is_alive(int(pid.group(1))):
        return RUNNING, f"loading now ({marker.message})"
    return State.FAILED, "interrupted: the runner stopped while loading it (killed?); run it again"


def code_change(latest: list[PartitionRun], code_now: dict[str, str] | None) -> str | None:
    """The first model whose compiled SQL differs from the SQL that loaded the partition."""
    for run in latest:
        name = node_name(run.unique_id)
        if code_now and run.code_fingerprint and name in code_now and code_now[name] != run.code_fingerprint:
            return f"code of {name} changed since it was loaded"
    return None


def seed_change(latest: list[PartitionRun], seeds_now: dict[str, str] | None) -> str | None:
    """The first seed whose content differs from the one the partition was built with."""
    recorded = next((run.seeds_fingerprint for run in latest if run.seeds_fingerprint), None)
    seed = changed_seed(recorded, seeds_now or {})
    return f"seed {seed} changed since it was loaded" if seed else None


def warehouse_difference(day: date, latest: list[PartitionRun], holdings: Holdings | None) -> str | None:
    """Why the warehouse does not hold what the partition's last run loaded, if it does not."""
    if holdings is None or not holdings.checked:
        return None
    if holdings.gone:
        return holdings.gone
    for run in sorted(latest, key=lambda run: run.unique_id):
        name = node_name(run.unique_id)
        if run.resource_type == "model" and name in holdings.models and run.rows_loaded is not None:
            held = holdings.rows_of(name, day)
            if held != run.rows_loaded:
                return (f"warehouse has {held} row{'' if held == 1 else 's'} of {name}, {run.rows_loaded} "
                        f"{'was' if run.rows_loaded == 1 else 'were'} loaded")
            if differs(run.content_fingerprint, holdings.content_of(name, day)):
                return f"warehouse rows of {name} differ from what was loaded"
    return None


def waiting(day: date, late_before: date | None, fingerprint_now: str | None, before: str | None = None) -> PartitionStatus:
    """A partition with nothing to load: awaiting its file, or late once its deadline has passed.
    `before`: what its last run said, when one ran (a missing file is no failure of the partition)."""
    state = LATE if late_before is not None and day < late_before else AWAITING
    message = "its file is still being written" if fingerprint_now == STILL_ARRIVING else "its file has not arrived"
    if state == LATE:
        message += " (past its deadline)"
    return PartitionStatus(day, state, message=message + (f"; its last run: {before}" if before else ""))


def partition_status(
    day: date, runs: list[PartitionRun], fingerprint_now: str | None, primary_model: str,
    code_now: dict[str, str] | None = None, holdings: Holdings | None = None, chunk_sizes: dict[str, int] | None = None,
    seeds_now: dict[str, str] | None = None, late_before: date | None = None,
) -> PartitionStatus:
    no_file = fingerprint_now in (None, STILL_ARRIVING)
    if not runs:
        if no_file:
            return waiting(day, late_before, fingerprint_now)
        # A file there that cannot be read is loaded like any other: its load fails, saying why.
        return PartitionStatus(day, State.MISSING, message="never loaded" + (
            f"; {fingerprint_now}" if isinstance(fingerprint_now, Unreadable) else ""))
    latest = latest_invocation(runs)
    if any(run.status == FORGOTTEN for run in latest):  # as if never loaded; its history is kept
        if no_file:
            return waiting(day, late_before, fingerprint_now, FORGOTTEN)
        return PartitionStatus(day, State.MISSING, message="forgotten; its file is back")
    primary = next((run for run in latest if run.resource_type == "model" and node_name(run.unique_id) == primary_model), None)
    chunk = (chunk_sizes or {}).get(latest[0].invocation_id) or 1
    seconds = sum(run.execution_time or 0.0 for run in latest)
    common = dict(
        rows=primary.rows_loaded if primary else None,
        invocation_id=latest[0].invocation_id,
        last_run_at=max(run.completed_at or run.recorded_at for run in latest),
        # Rounded here, once: the table, the JSON and the console show the same milliseconds.
        duration=round(seconds / chunk, 3),
        chunk_seconds=round(seconds, 3),
        chunk_partitions=chunk,
        warnings=warnings_of(latest),
    )
    flight = in_flight(latest)
    failure = flight[1] if flight else failure_message(latest)
    if failure and no_file and not flight:  # it could not have loaded: the file is what is missing
        return waiting(day, late_before, fingerprint_now, failure)
    if failure:
        held = holdings.rows_of(primary_model, day) if holdings else None
        return PartitionStatus(day, flight[0] if flight else State.FAILED, message=failure, **{**common, "rows": held})
    recorded = next((run.source_fingerprint for run in latest if run.source_fingerprint), None)
    difference = warehouse_difference(day, latest, holdings)
    if difference:
        return PartitionStatus(day, State.STALE, message=difference, **common)
    if isinstance(fingerprint_now, Unreadable):  # a load would fail on it: it says why
        return PartitionStatus(day, State.STALE, message=str(fingerprint_now), **common)
    if fingerprint_now is None:
        return PartitionStatus(day, State.STALE, message="source file is gone since it was loaded (its rows are kept)", **common)
    if fingerprint_now == STILL_ARRIVING:
        return PartitionStatus(day, State.STALE, message="source file is being written again since it was loaded", **common)
    if recorded == CHANGED_AFTER_THE_RUN:
        return PartitionStatus(day, State.STALE, message="source file changed after the run that loaded it started", **common)
    if recorded != fingerprint_now:
        return PartitionStatus(day, State.STALE, message="source file changed since it was loaded", **common)
    changed = code_change(latest, code_now) or seed_change(latest, seeds_now)
    if changed:
        return PartitionStatus(day, State.STALE, message=changed, **common)
    return PartitionStatus(day, State.MATERIALIZED, message=with_warnings("OK", common["warnings"]), **common)


def partition_statuses(
    dates: list[date],
    runs: list[PartitionRun],
    fingerprints_now: dict[date, str | None],
    primary_model: str,
    model: str | None = None,
    code_now: dict[str, str] | None = None,
    holdings: Holdings | None = None,
    chunk_sizes: dict[str, int] | None = None,
    seeds_now: dict[str, str] | None = None,
    late_before: date | None = None,
) -> list[PartitionStatus]:
    """One status per date; with `model`, only that model's own node counts. `holdings`: what
    the warehouse holds now; `chunk_sizes`: partitions per invocation, to share out its time."""
    if model:
        # That model's own node, and the runner's markers (in flight, interrupted) that cover it.
        runs = [
            run for run in runs
            if run.resource_type == "invocation" or (run.resource_type == "model" and node_name(run.unique_id) == model)
        ]
        primary_model = model
    by_day = {day: list(group) for day, group in groupby(sorted(runs, key=lambda r: r.partition_date), key=lambda r: r.partition_date)}
    return [
        partition_status(day, by_day.get(day, []), fingerprints_now.get(day), primary_model, code_now, holdings, chunk_sizes,
                         seeds_now, late_before)
        for day in dates
    ]
