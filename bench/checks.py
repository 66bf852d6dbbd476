"""Correctness checks on the contenders' warehouses and ledgers, and the per-half cost from the ledger."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb

from bench.contenders import BIN, Plan, Workload
from bench.measure import run_checked


def differing_rows(left: Path, right: Path, table: str, days: list[date] | None = None) -> int:
    """Rows in one table and not the other (as multisets), optionally only these partitions."""
    where = ""
    if days is not None:
        where = "where partition_date in (" + ", ".join(f"date '{day.isoformat()}'" for day in days) + ")"
    with duckdb.connect() as connection:
        connection.execute(f"attach '{left}' as l (read_only)")
        connection.execute(f"attach '{right}' as r (read_only)")
        return connection.execute(f"""
            select count(*) from (
                (select * from l.{table} {where} except all select * from r.{table} {where})
                union all
                (select * from r.{table} {where} except all select * from l.{table} {where})
            )
        """).fetchone()[0]


def row_count(warehouse: Path, table: str) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(f"select count(*) from {table}").fetchone()[0]


def ledger_states(run: Plan, days: list[date], source_dir: Path, env: dict[str, str]) -> list[dict]:
    """`runner status --json` over these days: partition, state and rows (ids and times differ by run)."""
    command = [str(BIN / "runner"), "--project-dir", str(run.project), "status", "--json",
               "--start", days[0].isoformat(), "--end", days[-1].isoformat(), "--source-dir", str(source_dir)]
    env = {**env, "WAREHOUSE_PATH": str(run.warehouse), "LEDGER_PATH": str(run.ledger)}
    return [{key: entry[key] for key in ("partition_date", "state", "rows")}
            for entry in json.loads(run_checked(command, run.folder, env))]


def check_repeat(plans: dict[str, Plan], workload: Workload, source_dir: Path, env: dict[str, str]) -> list[dict]:
    """Every contender's raw_partition_data against the single scan (the oracle); the runner modes
    against each other (both tables, and the ledger states), on the days the per-partition run loaded."""
    checks = []

    def add(name: str, ok: bool, detail: str) -> None:
        checks.append({"check": name, "ok": bool(ok), "detail": detail})

    oracle = plans.get("single_scan")
    if oracle is not None:
        expected = workload.days * workload.rows
        found = row_count(oracle.warehouse, "raw_partition_data")
        add("single_scan row count", found == expected, f"{found} rows, expected {expected}")
        for name, run in plans.items():
            if name == "single_scan":
                continue
            days = None if run.partitions == workload.days else workload.first_days(run.partitions)
            differing = differing_rows(run.warehouse, oracle.warehouse, "raw_partition_data", days)
            add(f"{name} raw_partition_data = single scan", differing == 0, f"{differing} rows differ")
    per_partition, batched = plans.get("runner_per_partition"), plans.get("runner_batched")
    if per_partition is not None and batched is not None:
        days = workload.first_days(per_partition.partitions)
        for table in ("raw_partition_data", "daily_summary"):
            differing = differing_rows(per_partition.warehouse, batched.warehouse, table, days)
            add(f"runner modes: same {table} ({len(days)} days)", differing == 0, f"{differing} rows differ")
        states = [ledger_states(run, days, source_dir, env) for run in (per_partition, batched)]
        mismatched = sum(1 for one, other in zip(*states) if one != other) + abs(len(states[0]) - len(states[1]))
        add(f"runner modes: same ledger states ({len(days)} days)", mismatched == 0, f"{mismatched} partitions differ")
    for name in ("runner_per_partition", "runner_batched"):
        run = plans.get(name)
        if run is not None:
            states = ledger_states(run, workload.first_days(run.partitions), source_dir, env)
            bad = [entry for entry in states if entry["state"] != "materialized" or entry["rows"] != workload.rows]
            add(f"{name}: every partition materialized with {workload.rows} rows", not bad and len(states) == run.partitions,
                f"{len(states) - len(bad)} of {run.partitions} partitions")
    return checks


def ledger_partition_seconds(ledger: Path, model: str = "raw_partition_data") -> list[float]:
    """Seconds per partition, in partition order, from the ledger: each invocation's time from the
    start of its first node to its record, split over its partitions. The same span for every
    invocation, so the first chunk is not spared work that a later one is charged for."""
    with duckdb.connect(str(ledger), read_only=True) as connection:
        invocations = connection.execute("""
            select count(distinct partition_date) filter (where unique_id like $model),
                   min(started_at), max(recorded_at)
            from partition_runs
            group by invocation_id
            having count(*) filter (where unique_id like $model) > 0
            order by max(recorded_at)
        """, {"model": f"model.%.{model}"}).fetchall()
    seconds = []
    for partitions, started_at, recorded_at in invocations:
        seconds += [(recorded_at - (started_at or recorded_at)).total_seconds() / partitions] * partitions
    return seconds


def halves(seconds: list[float]) -> dict | None:
    """Mean ms per partition in the first and the second half of a backfill."""
    if len(seconds) < 2:
        return None
    middle = len(seconds) // 2
    first, second = seconds[:middle], seconds[middle:]
    first_ms, second_ms = 1000 * sum(first) / len(first), 1000 * sum(second) / len(second)
    return {"first_half_ms_per_partition": round(first_ms, 2), "second_half_ms_per_partition": round(second_ms, 2),
            "second_over_first": round(second_ms / first_ms, 3) if first_ms else None}
