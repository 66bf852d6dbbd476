"""The per-partition ledger: a DuckDB file of its own, one row per partition, invocation and node."""

from __future__ import annotations

import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date, datetime
from pathlib import Path

import duckdb

SCHEMA = """
create table if not exists partition_runs (
    partition_date date not null,
    invocation_id varchar not null,
    unique_id varchar not null,
    resource_type varchar not null,
    status varchar not null,
    message varchar,
    failures integer,
    execution_time double,
    started_at timestamp,
    completed_at timestamp,
    rows_loaded bigint,
    source_file varchar,
    source_fingerprint varchar,
    code_fingerprint varchar,
    recorded_at timestamp not null,
    primary key (partition_date, invocation_id, unique_id)
)
"""


class LedgerError(Exception):
    """The ledger file cannot be opened or written."""


@dataclass(frozen=True)
class PartitionRun:
    """What one dbt node did for one partition in one invocation."""

    partition_date: date
    invocation_id: str
    unique_id: str
    resource_type: str
    status: str
    message: str | None
    failures: int | None
    execution_time: float
    started_at: datetime | None
    completed_at: datetime | None
    rows_loaded: int | None
    source_file: str | None
    source_fingerprint: str | None
    code_fingerprint: str | None
    recorded_at: datetime


COLUMNS = [field.name for field in fields(PartitionRun)]
COLUMN_TYPES = dict(re.findall(r"^    (\w+) (\w+)", SCHEMA, re.MULTILINE))


class Ledger:
    """Opened for each read or write, never held: other runners and readers get their turn."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @contextmanager
    def _connect(self, read_only: bool = False, attempts: int = 20):
        if read_only and not self.path.exists():
            connection = duckdb.connect()  # an empty ledger: nothing recorded yet
            connection.execute(SCHEMA)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            for attempt in range(attempts):
                try:
                    connection = duckdb.connect(str(self.path), read_only=read_only)
                    break
                except duckdb.IOException as error:
                    # Another runner is writing a partition: a short wait, then give up clearly.
                    if "lock" not in str(error).lower() or attempt == attempts - 1:
                        raise LedgerError(f"ledger {self.path}: {' '.join(str(error).split())}") from None
                    time.sleep(0.05 * (attempt + 1))
            if not read_only:
                connection.execute(SCHEMA)
        try:
            yield connection
        finally:
            connection.close()

    def record(self, runs: list[PartitionRun], replacing: str | None = None) -> None:
        """Write one partition's (or chunk's) rows in one transaction: all or none.
        `replacing` names an in-flight marker invocation whose rows these supersede."""
        if not runs:
            return
        # One list per column, unnested side by side: one statement for any number of rows (a
        # statement per row, or a parameter per value, costs seconds for a year-long chunk).
        columns = [[getattr(run, name) for run in runs] for name in COLUMNS]
        unnested = ", ".join(f"unnest(?::{COLUMN_TYPES[name]}[])" for name in COLUMNS)
        insert = f"insert or replace into partition_runs ({', '.join(COLUMNS)}) select {unnested}"
        with self._connect() as connection:
            connection.execute("begin")
            if replacing:
                connection.execute("delete from partition_runs where invocation_id = ?", [replacing])
            connection.execute(insert, columns)
            connection.execute("commit")

    def runs(self, start: date | None = None, end: date | None = None, where: str = "true", params=()) -> list[PartitionRun]:
        """Recorded rows in a date range (inclusive), oldest first."""
        query = (
            f"select {', '.join(COLUMNS)} from partition_runs"
            " where partition_date between coalesce(?, date '0001-01-01') and coalesce(?, date '9999-12-31')"
            f" and ({where}) order by completed_at nulls first, recorded_at, unique_id"
        )
        with self._connect(read_only=True) as connection:
            rows = connection.execute(query, [start, end, *params]).fetchall()
        return [PartitionRun(*row) for row in rows]

    def has_invocation(self, invocation_id: str) -> bool:
        return bool(self.runs(where="invocation_id = ?", params=[invocation_id]))
