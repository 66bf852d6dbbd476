"""The state of each partition, from the ledger and the files as they are now: RULES, in order, the
first that holds deciding it."""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache, cached_property
from itertools import groupby

from runner.artifacts import BAD_STATUSES, node_name, shortened
from runner.fingerprints import Unreadable
from runner.holdings import Holdings
from runner.ledger import PartitionRun
from runner.staleness import CHANGED_AFTER_THE_RUN as CHANGED_AFTER_THE_RUN  # read here too, as before
from runner.staleness import STALE_RULES, STILL_ARRIVING, Why, warehouse_difference
from runner.state_table import CheckWarning, PartitionStatus, Staleness, State

RUNNING, AWAITING, LATE = State.RUNNING, State.AWAITING, State.LATE
FORGOTTEN = "forgotten"  # the ledger's marker of a partition removed by `runner forget`
INTERRUPTED = "interrupted: the runner stopped while loading it (killed?); run it again"
# An in-flight marker written before the ledger had runner_pid and runner_host names its PID only
# in its message ("loading in runner PID n"); its runner ran on this host.
RUNNING_PID = re.compile(r"runner PID (\d+)")


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
    except PermissionError:  # alive, another user's
        pass
    return True


@cache
def this_host() -> str:
    return socket.gethostname()


def in_flight(marker: PartitionRun) -> str | None:
    """What a partition under the runner's in-flight marker shows while that runner may be loading
    it; None once it is dead (the load was interrupted). A runner on another host is taken at its
    word: its process cannot be looked at from here."""
    if marker.runner_pid is None:  # a marker of a runner older than the columns
        named = RUNNING_PID.search(marker.message or "")
        return f"loading now ({marker.message})" if named and is_alive(int(named.group(1))) else None
    if marker.runner_host and marker.runner_host != this_host():
        return (f"loading on host {marker.runner_host} (PID {marker.runner_pid}); whether that runner still lives "
                "cannot be checked from this host")
    return f"loading now ({marker.message})" if is_alive(marker.runner_pid) else None


@dataclass
class Partition:
    """What a partition is judged on: its ledger rows, and its file, the code, the seeds and the
    warehouse as they are now. What the rules ask of its last run is worked out when first asked."""

    day: date
    runs: list[PartitionRun]
    fingerprint_now: str | None
    primary_model: str
    code_now: dict[str, str] | None = None
    holdings: Holdings | None = None
    chunk_sizes: dict[str, int] | None = None
    seeds_now: dict[str, str] | None = None
    late_before: date | None = None

    @cached_property
    def latest(self) -> list[PartitionRun]:
        return latest_invocation(self.runs)

    @cached_property
    def forgotten(self) -> bool:
        return any(run.status == FORGOTTEN for run in self.latest)

    @cached_property
    def marker(self) -> PartitionRun | None:  # the runner's in-flight marker
        return next((run for run in self.latest if run.status == RUNNING), None)

    @cached_property
    def flight(self) -> str | None:
        return in_flight(self.marker) if self.marker else None

    @cached_property
    def failure(self) -> str | None:
        return failure_message(self.latest)

    @cached_property
    def recorded(self) -> str | None:
        return next((run.source_fingerprint for run in self.latest if run.source_fingerprint), None)

    @cached_property
    def warehouse(self) -> Why | None:
        return warehouse_difference(self.day, self.latest, self.holdings)

    @property
    def no_file(self) -> bool:
        return self.fingerprint_now in (None, STILL_ARRIVING)

    def waiting(self, before: str | None = None) -> PartitionStatus:
        """Nothing to load: awaiting its file, or late once its deadline has passed. `before`: what
        its last run said, when one ran (a missing file is no failure of the partition)."""
        state = LATE if self.late_before is not None and self.day < self.late_before else AWAITING
        message = "its file is still being written" if self.fingerprint_now == STILL_ARRIVING else "its file has not arrived"
        if state == LATE:
            message += " (past its deadline)"
        return PartitionStatus(self.day, state, message=message + (f"; its last run: {before}" if before else ""))

    def ran(self, state: str, message: str, **changes) -> PartitionStatus:
        """A state from its last run: that run's rows, time and warnings beside the message."""
        latest = self.latest
        primary = next((run for run in latest if run.resource_type == "model" and node_name(run.unique_id) == self.primary_model), None)
        chunk = (self.chunk_sizes or {}).get(latest[0].invocation_id) or 1
        seconds = sum(run.execution_time or 0.0 for run in latest)
        return PartitionStatus(self.day, state, message=message, **{
            "rows": primary.rows_loaded if primary else None,
            "invocation_id": latest[0].invocation_id,
            "last_run_at": max(run.completed_at or run.recorded_at for run in latest),
            # Rounded here, once: the table, the JSON and the console show the same milliseconds.
            "duration": round(seconds / chunk, 3), "chunk_seconds": round(seconds, 3), "chunk_partitions": chunk,
            "warnings": warnings_of(latest), **changes})

    def unfinished(self, state: str, message: str) -> PartitionStatus:
        """Running or failed: its rows are what the warehouse holds, its last run loaded none."""
        return self.ran(state, message, rows=self.holdings.rows_of(self.primary_model, self.day) if self.holdings else None)

    def stale(self, reason: Staleness, message: str) -> PartitionStatus:
        return self.ran(State.STALE, message, staleness=(reason,))


Rule = tuple[str, Callable[[Partition], object], Callable[[Partition], PartitionStatus]]
# A partition's state: the first rule whose test holds decides it, and a rule may count on every
# earlier one's test having failed (past the second, it has runs).
RULES: tuple[Rule, ...] = (
    ("awaiting: never loaded, no file", lambda p: not p.runs and p.no_file, lambda p: p.waiting()),
    # A file there that cannot be read is loaded like any other: its load fails, saying why.
    ("missing: never loaded", lambda p: not p.runs, lambda p: PartitionStatus(p.day, State.MISSING, message="never loaded" + (
        f"; {p.fingerprint_now}" if isinstance(p.fingerprint_now, Unreadable) else ""))),
    # Forgotten: as if never loaded; its history is kept.
    ("awaiting: forgotten, no file", lambda p: p.forgotten and p.no_file, lambda p: p.waiting(FORGOTTEN)),
    ("missing: forgotten, its file back", lambda p: p.forgotten,
     lambda p: PartitionStatus(p.day, State.MISSING, message="forgotten; its file is back")),
    ("running: its runner may be loading it", lambda p: p.flight, lambda p: p.unfinished(RUNNING, p.flight)),
    ("failed: its runner died loading it", lambda p: p.marker, lambda p: p.unfinished(State.FAILED, INTERRUPTED)),
    # It could not have loaded: the file is what is missing.
    ("awaiting: failed, no file", lambda p: p.failure and p.no_file, lambda p: p.waiting(p.failure)),
    ("failed: its last run", lambda p: p.failure, lambda p: p.unfinished(State.FAILED, p.failure)),
    # It loaded: stale while anything it was loaded from, or into, differs now (staleness.py).
    *((name, test, lambda p, why=why: p.stale(*why(p))) for name, test, why in STALE_RULES),
    ("materialized", lambda p: True, lambda p: p.ran(State.MATERIALIZED, with_warnings("OK", warnings_of(p.latest)))),
)


def partition_status(
    day: date, runs: list[PartitionRun], fingerprint_now: str | None, primary_model: str,
    code_now: dict[str, str] | None = None, holdings: Holdings | None = None, chunk_sizes: dict[str, int] | None = None,
    seeds_now: dict[str, str] | None = None, late_before: date | None = None,
) -> PartitionStatus:
    partition = Partition(day, runs, fingerprint_now, primary_model, code_now, holdings, chunk_sizes, seeds_now, late_before)
    return next(result(partition) for _, test, result in RULES if test(partition))


def partition_statuses(
    dates: list[date], runs: list[PartitionRun], fingerprints_now: dict[date, str | None], primary_model: str,
    model: str | None = None, code_now: dict[str, str] | None = None, holdings: Holdings | None = None,
    chunk_sizes: dict[str, int] | None = None, seeds_now: dict[str, str] | None = None, late_before: date | None = None,
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
