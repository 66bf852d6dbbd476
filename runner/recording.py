"""Turning one dbt invocation's results into ledger rows, one per partition and node."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from runner.artifacts import RunResults
from runner.fingerprints import code_fingerprint
from runner.ledger import PartitionRun
from runner.status import node_name

INVOCATION_NODE = "invocation"
RUNNING = "running"


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def partition_runs(
    results: RunResults,
    source_files: dict[date, Path],
    file_fingerprints: dict[date, str | None],
    rows: dict[tuple[str, date], int],
    source_dir: str,
) -> list[PartitionRun]:
    """Every node of the invocation, for every partition it covered."""
    recorded_at = now()
    runs = []
    for day in results.partition_dates:
        for node in results.nodes:
            runs.append(PartitionRun(
                partition_date=day,
                invocation_id=results.invocation_id,
                unique_id=node.unique_id,
                resource_type=node.resource_type,
                status=node.status,
                message=node.message,
                failures=node.failures,
                execution_time=node.execution_time,
                started_at=node.started_at,
                completed_at=node.completed_at,
                rows_loaded=rows.get((node_name(node.unique_id), day)) if node.resource_type == "model" and node.ok else None,
                source_file=str(source_files[day]),
                source_fingerprint=file_fingerprints.get(day),
                code_fingerprint=code_fingerprint(node.compiled_code, source_dir) if node.resource_type == "model" else None,
                recorded_at=recorded_at,
            ))
    return runs


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
