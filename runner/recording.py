"""Turning one dbt invocation's results into ledger rows, one per partition and node."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from runner.artifacts import NodeResult, RunResults, node_name
from runner.checks import Found, describe
from runner.fingerprints import code_fingerprint
from runner.ledger import PartitionRun

INVOCATION_NODE = "invocation"


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def partition_runs(
    results: RunResults,
    source_files: dict[date, Path],
    file_fingerprints: dict[date, str | None],
    rows: dict[tuple[str, date], int],
    source_dir: str,
    found: dict[str, dict[date, Found]] | None = None,
    seeds: str | None = None,
) -> list[PartitionRun]:
    """Every node of the invocation, for every partition it covered. `found`: what each failed or
    warning test found, by test and partition (checks.py); a partition it found nothing in passed."""
    recorded_at = now()
    runs = []
    for day in results.partition_dates:
        for node in results.nodes:
            status, message, failures = check_outcome(node, day, source_files[day], (found or {}).get(node.unique_id))
            runs.append(PartitionRun(
                partition_date=day,
                invocation_id=results.invocation_id,
                unique_id=node.unique_id,
                resource_type=node.resource_type,
                status=status,
                message=message,
                failures=failures,
                execution_time=node.execution_time,
                started_at=node.started_at,
                completed_at=node.completed_at,
                rows_loaded=rows.get((node_name(node.unique_id), day)) if node.resource_type == "model" and node.ok else None,
                source_file=str(source_files[day]),
                source_fingerprint=file_fingerprints.get(day),
                code_fingerprint=code_fingerprint(node.compiled_code, source_dir) if node.resource_type == "model" else None,
                recorded_at=recorded_at,
                seeds_fingerprint=seeds if node.resource_type == "model" else None,
            ))
    return runs


def check_outcome(node: NodeResult, day: date, source_file: Path, found: dict[date, Found] | None) -> tuple[str, str | None, int | None]:
    """A node's status, message and failures for one partition. A test's result covers every
    partition of the invocation; what it found tells which partitions it was about."""
    if found is None:
        return node.status, node.message, node.failures
    if day not in found:
        return "pass", None, 0
    outcome = "failed" if node.status == "fail" else "warned"
    return node.status, describe(node_name(node.unique_id), outcome, found[day], str(source_file)), found[day].rows


def marker_runs(
    invocation_id: str, dates: list[date], source_files: dict[date, Path], status: str, message: str
) -> list[PartitionRun]:
    """Rows for the runner's own view of an invocation: in flight, interrupted, or stopped before
    dbt wrote results (a lock, a crash)."""
    at = now()
    return [
        PartitionRun(day, invocation_id, INVOCATION_NODE, INVOCATION_NODE, status, message, None, 0.0,
                     at, at, None, str(source_files[day]), None, None, at)
        for day in dates
    ]
