"""Where a backfill's time went, from its ledger: each dbt node's seconds, summed over the invocations.

    python -m bench.node_times LEDGER [LEDGER ...]     # e.g. the ledgers of a `bench.run --keep`

A chunk records each node once per partition with the same execution_time: it counts once per
invocation here. The span of all invocations (first node's start to the last record) is given too;
what the nodes do not cover is dbt's set-up between them, the ledger and the runner's own work
(the two check nodes run side by side, so their sum may exceed their share of the span).
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

MODELS = {
    "stg_daily_files__quotes": "reading and typing the files (the staging model)",
    "raw_partition_data": "writing the rows again into raw_partition_data",
    "daily_summary": "daily_summary",
}
TESTS = "the tests (the check nodes run side by side)"
OTHER = "other nodes"


def part_of(unique_id: str) -> str:
    if unique_id.startswith("test."):
        return TESTS
    return MODELS.get(unique_id.rsplit(".", 1)[-1], OTHER)


def node_seconds(ledger: Path) -> tuple[dict[str, float], float, int]:
    """Seconds per part (part_of), the span of all invocations, and how many invocations."""
    with duckdb.connect(str(ledger), read_only=True) as connection:
        nodes = connection.execute("""
            select unique_id, max(execution_time) from partition_runs
            where resource_type <> 'seed' group by invocation_id, unique_id
        """).fetchall()
        spans = connection.execute("""
            select min(started_at), max(recorded_at) from partition_runs
            where resource_type <> 'seed' group by invocation_id
        """).fetchall()
    parts = dict.fromkeys([*MODELS.values(), TESTS, OTHER], 0.0)
    for unique_id, seconds in nodes:
        parts[part_of(unique_id)] += seconds or 0.0
    span = sum((end - start).total_seconds() for start, end in spans if start and end)
    return parts, span, len(spans)


def main(argv: list[str]) -> int:
    for path in argv:
        parts, span, invocations = node_seconds(Path(path))
        print(f"{path}: {invocations} invocation(s), {span:.2f} s from the first node to the last record")
        for name, seconds in parts.items():
            print(f"  {seconds:8.2f} s  {name}")
        print(f"  {span - sum(parts.values()):8.2f} s  between the nodes (dbt's set-up around them, the ledger)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
