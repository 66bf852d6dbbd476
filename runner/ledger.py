"""The per-partition ledger: a DuckDB file of its own, one row per partition, invocation and node."""

from __future__ import annotations

import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date, datetime
from pathlib import Path

import duckdb

from runner.held_signals import signals_held
from runner.ledger_schema import ADDED_COLUMNS, COLUMN_TYPES, SCHEMA


class LedgerError(Exception):
    """The ledger file cannot be opened or written."""


# What DuckDB says of a file that is not a whole database (cut short, overwritten): never a lock.
DAMAGED = re.compile(r"Could not read enough bytes|not a valid DuckDB database|corrupt|checksum", re.IGNORECASE)


def ledger_error(path: Path, error: Exception, doing: str = "") -> LedgerError:
    """One line for a DuckDB error on the ledger; for a damaged file, what to do about it."""
    text = " ".join(str(error).split())[:300]
    if DAMAGED.search(text):
        return LedgerError(f"ledger {path} is damaged ({text}): move it aside (a new ledger starts empty, and a "
                           "backfill loads every partition again); the warehouse is not affected")
    return LedgerError(f"ledger {path}: {doing}{text}")


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
    seeds_fingerprint: str | None = None  # JSON: each seed's SHA-256 when the partition was built
    failures_by_rule: str | None = None  # JSON: a test of several rules, the rows that broke each
    content_fingerprint: str | None = None  # a model's partition as loaded: content.py
    # The in-flight marker's runner: its process and the host it runs on (null on other rows, and
    # on markers of runners older than these columns: their message names the PID).
    runner_pid: int | None = None
    runner_host: str | None = None


COLUMNS = [field.name for field in fields(PartitionRun)]


class Ledger:
    """Opened for each read or write, never held: other runners and readers get their turn."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._reading = None  # the read-only connection of a `reading()` block
        self._schema_made = False  # by this object, in the file that is there now

    @contextmanager
    def reading(self):
        """Serve the reads of this block from one read-only connection: a DuckDB connection costs
        about 20 ms to open here, and planning reads the ledger several times."""
        if self._reading is not None:
            yield
            return
        with self._connect(read_only=True) as connection:
            self._reading = connection
            try:
                yield
            finally:
                self._reading = None

    @contextmanager
    def _connect(self, read_only: bool = False, attempts: int = 20):
        if read_only and self._reading is not None:
            yield self._reading
            return
        if read_only and not self.path.exists():
            connection = duckdb.connect()  # an empty ledger: nothing recorded yet
            connection.execute(SCHEMA)
        else:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise LedgerError(f"ledger {self.path}: cannot create its folder: {error.strerror or error}") from None
            # The schema once per writer, not per write (a third of a write's time); again if the
            # file went away since.
            make_schema = not read_only and not (self._schema_made and self.path.exists())
            for attempt in range(attempts):
                try:
                    connection = duckdb.connect(str(self.path), read_only=read_only)
                    break
                except duckdb.Error as error:
                    # Another runner is writing a partition: a short wait, then give up clearly.
                    if "lock" not in str(error).lower() or attempt == attempts - 1:
                        raise ledger_error(self.path, error) from None
                    time.sleep(0.05 * (attempt + 1))
            if make_schema:
                try:
                    connection.execute(SCHEMA)
                    for name, kind in ADDED_COLUMNS.items():
                        connection.execute(f"alter table partition_runs add column if not exists {name} {kind}")
                    self._schema_made = True
                except duckdb.Error as error:
                    connection.close()
                    raise ledger_error(self.path, error) from None
        try:
            yield connection
        except duckdb.Error as error:  # a read of a damaged file fails only when it reaches the damage
            raise ledger_error(self.path, error) from None
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
        with signals_held(), self._connect() as connection:
            try:
                connection.execute("begin")
                if replacing:
                    connection.execute("delete from partition_runs where invocation_id = ?", [replacing])
                connection.execute(insert, columns)
                connection.execute("commit")
            except duckdb.Error as error:  # a full disk, a read-only folder: the last commit stays readable
                raise ledger_error(self.path, error, "cannot record the runs: ") from None

    @contextmanager
    def writing(self, doing: str):
        """A connection for one write of another module's table (backfill_records.py), with the
        signals held until it is done; `doing` names it in the error ("record the backfill")."""
        with signals_held(), self._connect() as connection:
            try:
                yield connection
            except duckdb.Error as error:
                raise ledger_error(self.path, error, f"cannot {doing}: ") from None

    def read_only(self):
        """A read-only connection for another module's reads (an empty ledger's when there is no file)."""
        return self._connect(read_only=True)

    def runs(self, start: date | None = None, end: date | None = None, where: str = "true", params=()) -> list[PartitionRun]:
        """Recorded rows in a date range (inclusive), oldest first."""
        with self._connect(read_only=True) as connection:
            present = {name for (name,) in connection.execute(
                "select column_name from information_schema.columns where table_name = 'partition_runs'").fetchall()}
            rows = connection.execute(self._runs_query(present, where), [start, end, *params]).fetchall()
        return [PartitionRun(*row) for row in rows]

    @staticmethod
    def _runs_query(present: set[str], where: str) -> str:
        selected = [name if name in present else f"null as {name}" for name in COLUMNS]  # an older ledger
        return (
            f"select {', '.join(selected)} from partition_runs"
            " where partition_date between coalesce(?, date '0001-01-01') and coalesce(?, date '9999-12-31')"
            f" and ({where}) order by completed_at nulls first, recorded_at, unique_id"
        )

    def seeded(self, warehouse: str) -> dict[str, str]:
        """The seeds' fingerprints as last loaded into this warehouse by the runner."""
        with self._connect(read_only=True) as connection:
            try:
                return dict(connection.execute("select seed, fingerprint from seed_loads where warehouse = ?", [warehouse]).fetchall())
            except duckdb.CatalogException:  # a ledger from before seeds were recorded
                return {}

    def record_seeds(self, warehouse: str, fingerprints: dict[str, str]) -> None:
        with signals_held(), self._connect() as connection:
            try:
                connection.execute("begin")
                connection.execute("delete from seed_loads where warehouse = ?", [warehouse])
                for seed, fingerprint in fingerprints.items():
                    connection.execute("insert into seed_loads values (?, ?, ?, now()::timestamp)", [warehouse, seed, fingerprint])
                connection.execute("commit")
            except duckdb.Error as error:
                raise ledger_error(self.path, error, "cannot record the seeds: ") from None

    def warehouse_mark(self, warehouse: str) -> tuple[int, int, int] | None:
        """The warehouse file's size, modification time and inode as the runner left it last."""
        with self._connect(read_only=True) as connection:
            try:
                found = connection.execute("select size, modified_ns, inode from warehouse_marks where warehouse = ?",
                                           [warehouse]).fetchone()
            except duckdb.CatalogException:  # a ledger from before marks were recorded
                return None
        return tuple(found) if found else None

    def mark_warehouse(self, warehouse: str, mark: tuple[int, int, int] | None) -> None:
        """Note the warehouse file as the runner's last write left it: while it stays so, nothing
        else wrote to it, and its content need not be hashed again to be trusted."""
        with signals_held(), self._connect() as connection:
            try:
                connection.execute("delete from warehouse_marks where warehouse = ?", [warehouse])
                if mark is not None:
                    connection.execute("insert into warehouse_marks values (?, ?, ?, ?, now()::timestamp)", [warehouse, *mark])
            except duckdb.Error as error:
                raise ledger_error(self.path, error, "cannot mark the warehouse: ") from None

    def chunk_sizes(self, invocation_ids: set[str]) -> dict[str, int]:
        """How many partitions each invocation loaded (a chunk's time is shared among them)."""
        if not invocation_ids:
            return {}
        with self._connect(read_only=True) as connection:
            found = connection.execute(
                "select invocation_id, count(distinct partition_date) from partition_runs"
                " where invocation_id in (select unnest(?::varchar[])) group by 1", [sorted(invocation_ids)]
            ).fetchall()
        return dict(found)

    def has_invocation(self, invocation_id: str) -> bool:
        return bool(self.runs(where="invocation_id = ?", params=[invocation_id]))
