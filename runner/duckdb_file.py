"""The DuckDB file engine: the warehouse file looked at directly, read-only, with no dbt start-up,
and let go of when dbt-duckdb holds it in this process."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from runner import content
from runner.arrivals import signature
from runner.artifacts import ArtifactError, parse_run_results
from runner.engine_seam import HandRun, Mark, Session, built_models, hash_name
from runner.holdings import Holdings
from runner.partitions import as_date

LOCK_HOLDER = re.compile(r"PID (\d+)")
TABLES = "select table_name from information_schema.tables where table_schema = 'main'"
HAND_RUNS = "runner_hand_runs"  # where a hand run's hook leaves its results (macros/hand_runs.sql)


@dataclass(frozen=True)
class DuckDBFile:
    """A DuckDB database file: looked at directly, read-only; a write shows in its size, time or inode."""

    path: Path
    name: str = "duckdb"
    planning_needs_session: bool = False
    keeps_hand_runs: bool = True
    copies_ledger_for_dbt: bool = True

    @property
    def hash_name(self) -> str:
        return hash_name(self.name)

    def holdings(self, dbt: Session | None, models: tuple[str, ...], start: date, end: date,
                 verify: bool = False) -> Holdings:
        """One read-only look: a count per partition, or with `verify` one scan of every column."""
        opened = self._open()
        if isinstance(opened, Holdings):
            return opened
        try:
            tables = frozenset(name for (name,) in opened.execute(TABLES).fetchall())
            # Never built, or dropped: such a model holds no partition.
            relations = {model: f'main."{model}"' for model in models if model in tables}
            if verify or not relations:
                found = content.contents_of(opened.execute(content.content_query(
                    self.name, relations, content.range_condition(start, end))).fetchall(), self.hash_name) if relations else {}
                return Holdings({key: held.rows for key, held in found.items()}, tables=tables,
                                contents=found if verify else None, hash_used=self.hash_name,
                                span=(start, end) if verify else None, models=models)
            rows: dict[tuple[str, date], int] = {}
            for model, relation in relations.items():
                counted = opened.execute(
                    f"select partition_date, count(*) from {relation} where partition_date between ? and ? group by 1",
                    [start, end],
                ).fetchall()
                rows.update({(model, as_date(day)): count for day, count in counted})
            return Holdings(rows, tables=tables, models=models)
        except duckdb.Error as error:
            return Holdings(unchecked=f"the warehouse could not be checked: {' '.join(str(error).split())[:200]}")
        finally:
            opened.close()

    def _open(self) -> duckdb.DuckDBPyConnection | Holdings:
        """A read-only connection, or the Holdings that say why there is none."""
        if not self.path.exists():
            return Holdings(gone=f"warehouse file is gone ({self.path})")
        self.release()  # dbt may hold it open in this process, and DuckDB opens a file one way per process
        try:
            return duckdb.connect(str(self.path), read_only=True)
        except duckdb.Error as error:
            text = " ".join(str(error).split())
            if "lock" in text.lower():
                holder = LOCK_HOLDER.search(text)
                return Holdings(unchecked="the warehouse could not be checked: a load holds it"
                                + (f" (PID {holder.group(1)})" if holder else ""))
            if "not a valid DuckDB database file" in text:
                return Holdings(gone=f"warehouse is not a DuckDB file ({self.path})")
            return Holdings(unchecked=f"the warehouse could not be checked: {text[:200]}")

    def look(self) -> Holdings:
        return self.holdings(None, (), date.min, date.min)

    def set_aside_if_unreadable(self, looked: Holdings) -> Path | None:
        """A file that is not a DuckDB database cannot be loaded into, and every partition it was
        said to hold is stale."""
        if not looked.gone or not self.path.is_file():
            return None
        aside = self.path.with_name(f"{self.path.name}.unreadable-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}")
        self.path.rename(aside)
        return aside

    def hand_runs(self, recorded: Callable[[str], bool]) -> list[HandRun]:
        """Each one's results (run_results.json's shape) and what its partitions hold now. Nothing
        when the warehouse cannot be read (status says why elsewhere)."""
        if not self.path.is_file():
            return []
        opened = self._open()
        if isinstance(opened, Holdings):
            return []
        found = []
        try:
            tables = {name for (name,) in opened.execute(TABLES).fetchall()}
            if HAND_RUNS not in tables:
                return []
            for invocation_id, text in opened.execute(f"select invocation_id, run_results from main.{HAND_RUNS}").fetchall():
                if recorded(invocation_id):
                    continue
                try:
                    results = parse_run_results(text, f"hand run {invocation_id}")
                except ArtifactError:
                    continue
                models = {name for name, _ in built_models(results)} & tables
                relations = {model: f'main."{model}"' for model in sorted(models)}
                query = content.content_query(self.name, relations, content.dates_condition(results.partition_dates))
                held = content.contents_of(opened.execute(query).fetchall(), self.hash_name) if relations else {}
                empty = content.empty(self.hash_name)
                found.append((results, {(model, day): held.get((model, day), empty)
                                        for model in relations for day in results.partition_dates}))
        except duckdb.Error:
            return []
        finally:
            opened.close()
        return sorted(found, key=lambda pair: pair[0].generated_at)

    def mark(self) -> Mark | None:
        """Size, modification time, inode: any write changes one. A write-ahead log beside it (a
        writer that has not checkpointed, or crashed) is a change too."""
        return None if self.path.with_name(self.path.name + ".wal").exists() else signature(self.path)

    def changed_since(self, marked: Mark | None) -> bool:
        now = self.mark()
        return now is None and self.path.exists() or now != marked

    def release(self) -> None:
        release_warehouse()


def release_warehouse() -> None:
    """Let go of a DuckDB file dbt holds in this process. dbt-duckdb keeps its database open between
    in-process invocations (keep_open), which holds DuckDB's file lock until the process ends."""
    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    if connections is None:  # dbt-duckdb never ran in this process (another adapter, or no dbt at all)
        return
    DuckDBConnectionManager = connections.DuckDBConnectionManager
    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None
