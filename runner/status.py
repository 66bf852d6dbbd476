"""The state of each partition, from the ledger and the files as they are now."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby

from runner.artifacts import BAD_STATUSES
from runner.ledger import PartitionRun

STATES = ("materialized", "failed", "stale", "missing")
RUNNING_PID = re.compile(r"runner PID (\d+)")


@dataclass(frozen=True)
class CheckWarning:
    """A plausibility check (a test with severity warn) that found rows in the partition."""

    check: str
    rows: int | None
    message: str | None

    def as_dict(self) -> dict:
        return {"check": self.check, "rows": self.rows, "message": self.message}


@dataclass(frozen=True)
class PartitionStatus:
    partition_date: date
    state: str
    rows: int | None = None
    invocation_id: str | None = None
    last_run_at: datetime | None = None
    duration: float | None = None
    message: str | None = None
    warnings: tuple[CheckWarning, ...] = ()

    def as_dict(self) -> dict:
        return {
            "partition_date": self.partition_date.isoformat(),
            "state": self.state,
            "rows": self.rows,
            "invocation_id": self.invocation_id,
            "last_run_at": self.last_run_at.isoformat(timespec="seconds") + "Z" if self.last_run_at else None,
            "duration_seconds": round(self.duration, 3) if self.duration is not None else None,
            "message": self.message,
            "warnings": [warning.as_dict() for warning in self.warnings],
        }


def node_name(unique_id: str) -> str:
    """model.pkg.NAME, test.pkg.NAME.hash, seed.pkg.NAME: the name people know."""
    parts = unique_id.split(".")
    return parts[2] if len(parts) > 2 else unique_id


def failure_message(runs: list[PartitionRun]) -> str | None:
    """What went wrong, named by its node: a model before a test, skips only when nothing else
    failed. In node order, not finishing order, which varies when nodes run side by side."""
    bad = sorted((run for run in runs if run.status in BAD_STATUSES), key=lambda run: run.unique_id)
    first = next((run for run in bad if run.status != "skipped"), bad[0] if bad else None)
    if first is None:
        return None
    name, message = node_name(first.unique_id), first.message or first.status
    return message if message.startswith(f"{name} ") else f"{name}: {message}"  # checks.describe names it


def warnings_of(latest: list[PartitionRun]) -> tuple[CheckWarning, ...]:
    """The checks that warned in the partition's last run, in node order."""
    warned = sorted((run for run in latest if run.status == "warn"), key=lambda run: run.unique_id)
    return tuple(CheckWarning(node_name(run.unique_id), run.failures, run.message) for run in warned)


def with_warnings(message: str, warnings: tuple[CheckWarning, ...]) -> str:
    """OK, or OK with the checks that warned: `OK, 1 warning: stg_quotes_dated_near_the_file (12 rows)`."""
    if not warnings:
        return message
    named = ", ".join(f"{warning.check} ({warning.rows} row{'' if warning.rows == 1 else 's'})" if warning.rows is not None
                      else warning.check for warning in warnings)
    return f"{message}, {len(warnings)} warning{'' if len(warnings) == 1 else 's'}: {named}"


def latest_invocation(runs: list[PartitionRun]) -> list[PartitionRun]:
    """The rows of the last invocation that touched the partition."""
    last = max(runs, key=lambda run: run.recorded_at)
    return [run for run in runs if run.invocation_id == last.invocation_id]


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def in_flight(latest: list[PartitionRun]) -> str | None:
    """For a partition whose last record is the runner's in-flight marker: why it is not done."""
    marker = next((run for run in latest if run.status == "running"), None)
    if marker is None:
        return None
    pid = RUNNING_PID.search(marker.message or "")
    if pid and is_alive(int(pid.group(1))):
        return f"loading now ({marker.message})"
    return "interrupted: the runner stopped while loading it (killed?); run it again"


def code_change(latest: list[PartitionRun], code_now: dict[str, str] | None) -> str | None:
    """The first model whose compiled SQL differs from the SQL that loaded the partition."""
    for run in latest:
        name = node_name(run.unique_id)
        if code_now and run.code_fingerprint and name in code_now and code_now[name] != run.code_fingerprint:
            return f"code of {name} changed since it was loaded"
    return None


def partition_status(
    day: date, runs: list[PartitionRun], fingerprint_now: str | None, primary_model: str,
    code_now: dict[str, str] | None = None,
) -> PartitionStatus:
    if not runs:
        return PartitionStatus(day, "missing", message="never loaded")
    latest = latest_invocation(runs)
    primary = next((run for run in latest if node_name(run.unique_id) == primary_model), None)
    common = dict(
        rows=primary.rows_loaded if primary else None,
        invocation_id=latest[0].invocation_id,
        last_run_at=max(run.completed_at or run.recorded_at for run in latest),
        duration=sum(run.execution_time or 0.0 for run in latest),
        warnings=warnings_of(latest),
    )
    failure = in_flight(latest) or failure_message(latest)
    if failure:
        return PartitionStatus(day, "failed", message=failure, **common)
    recorded = next((run.source_fingerprint for run in latest if run.source_fingerprint), None)
    if fingerprint_now is None:
        return PartitionStatus(day, "stale", message="source file is gone since it was loaded", **common)
    if recorded != fingerprint_now:
        return PartitionStatus(day, "stale", message="source file changed since it was loaded", **common)
    changed = code_change(latest, code_now)
    if changed:
        return PartitionStatus(day, "stale", message=changed, **common)
    return PartitionStatus(day, "materialized", message=with_warnings("OK", common["warnings"]), **common)


def partition_statuses(
    dates: list[date],
    runs: list[PartitionRun],
    fingerprints_now: dict[date, str | None],
    primary_model: str,
    model: str | None = None,
    code_now: dict[str, str] | None = None,
) -> list[PartitionStatus]:
    """One status per date; with `model`, only that model's own node counts."""
    if model:
        # That model's own node, and the runner's markers (in flight, interrupted) that cover it.
        runs = [
            run for run in runs
            if run.resource_type == "invocation" or (run.resource_type == "model" and node_name(run.unique_id) == model)
        ]
        primary_model = model
    by_day = {day: list(group) for day, group in groupby(sorted(runs, key=lambda r: r.partition_date), key=lambda r: r.partition_date)}
    return [partition_status(day, by_day.get(day, []), fingerprints_now.get(day), primary_model, code_now) for day in dates]
