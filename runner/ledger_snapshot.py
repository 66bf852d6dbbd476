"""The ledger as dbt reads it: after a command that wrote the ledger, its `partition_runs` is copied
to a Parquet file beside the warehouse, which the `runner_ledger` source reads
(`select * from {{ source('runner_ledger', 'partition_runs') }}`).

Why not attach the ledger in the profile: DuckDB refuses one file attached twice in a process
("Unique file handle conflict"), and the runner writes the ledger while dbt-duckdb keeps its
connection open; a ledger that does not exist yet would also fail every dbt command."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from runner.arrivals import signature

SUFFIX = ".partition_runs.parquet"  # the source's external_location names the same file


def snapshot_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + SUFFIX)


def ledger_signature(ledger: Path) -> tuple:
    """What changes when the ledger is written: its file's and its WAL's size, mtime and inode."""
    return signature(ledger), signature(ledger.with_name(ledger.name + ".wal"))


def write_snapshot(ledger: Path, warehouse: Path) -> Path | None:
    """Copy partition_runs next to the warehouse, replacing the last copy whole (a reader never sees
    half a file). None when the ledger cannot be read now (another runner is writing it): the last
    copy stays, and the next command that writes the ledger copies it again."""
    target = snapshot_path(warehouse)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with duckdb.connect(str(ledger), read_only=True) as connection:
            quoted = str(partial).replace("'", "''")
            connection.execute(f"copy (select * from partition_runs order by all) to '{quoted}' (format parquet)")
        os.replace(partial, target)
    except (duckdb.Error, OSError):  # busy, or a folder that cannot be written: the last copy stays
        partial.unlink(missing_ok=True)
        return None
    return target
