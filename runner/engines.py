"""The warehouses the runner knows, behind one small seam: what a warehouse holds per partition,
whether something else wrote to it, letting go of it, and whether a look at it needs dbt's session.

A DuckDB file is read directly, read-only, with no dbt start-up; any other adapter (Spark) is
asked through the dbt session a command holds. The project picks one by its profile's type
(Project.engine): no other module asks which warehouse it is.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

import duckdb

from runner import content
from runner.arrivals import signature
from runner.artifacts import ArtifactError, RunResults, node_name, parse_run_results
from runner.errors import WarehouseError
from runner.holdings import Holdings
from runner.partitions import as_date

Mark = tuple[int, int, int]  # what the runner recorded of the warehouse after its own last write
HandRun = tuple[RunResults, dict[tuple[str, date], content.Content]]
LOCK_HOLDER = re.compile(r"PID (\d+)")
TABLES = "select table_name from information_schema.tables where table_schema = 'main'"
HAND_RUNS = "runner_hand_runs"  # where a hand run's hook leaves its results (macros/hand_runs.sql)


class Session(Protocol):
    """What an engine asks of dbt (runner.dbt.Dbt): a parsed project, its relations, a query."""

    @property
    def parsed(self) -> bool: ...

    def relation_name(self, model: str) -> str | None: ...

    def query(self, sql: str) -> tuple[list[str], list[tuple]]: ...


class Engine(Protocol):
    name: str  # the adapter's type in profiles.yml, and the SQL dialect of the content queries
    planning_needs_session: bool  # a look at the warehouse goes through dbt: parse before planning
    keeps_hand_runs: bool  # hand runs leave their results in the warehouse (else only in target/)

    def holdings(self, dbt: Session | None, models: tuple[str, ...], start: date, end: date,
                 verify: bool = False) -> Holdings:
        """Each model's rows per partition from start to end; with `verify`, their content hashed again."""

    def look(self) -> Holdings:
        """Whether the warehouse can be loaded into, and its tables when they can be listed cheaply."""

    def set_aside_if_unreadable(self, looked: Holdings) -> Path | None:
        """Move a warehouse that cannot be opened aside (never delete it), so a load can build a new one."""

    def hand_runs(self, recorded: Callable[[str], bool]) -> list[HandRun]:
        """The hand runs the warehouse keeps that are not `recorded` yet, oldest first."""

    def mark(self) -> Mark | None:
        """The warehouse as it is now, for changed_since after the runner's own writes."""

    def changed_since(self, marked: Mark | None) -> bool:
        """Whether something other than the runner wrote to the warehouse since it was marked."""

    def release(self) -> None:
        """Let go of the warehouse, so that another process (or a read-only look) can open it."""

    @property
    def hash_name(self) -> str:
        """The name of the row hash this engine computes (content.hash_name)."""


def engine_for(adapter: str | None, warehouse_path: Path) -> Engine:
    """The engine of a profile's adapter type: a DuckDB file, else any adapter through dbt."""
    return DuckDBFile(warehouse_path) if adapter == "duckdb" else ThroughDbt(adapter or "unknown")


def hash_name(adapter: str) -> str:
    return content.hash_name(adapter, duckdb.__version__)


@dataclass(frozen=True)
class DuckDBFile:
    """A DuckDB database file: looked at directly, read-only; a write shows in its size, time or inode."""

    path: Path
    name: str = "duckdb"
    planning_needs_session: bool = False
    keeps_hand_runs: bool = True

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


@dataclass(frozen=True)
class ThroughDbt:
    """Any other adapter (Spark): asked through the dbt session a command already holds. It keeps
    no change marker the runner can read cheaply: content is hashed again on loads and --verify."""

    name: str
    planning_needs_session: bool = True
    keeps_hand_runs: bool = False

    @property
    def hash_name(self) -> str:
        return hash_name(self.name)

    def holdings(self, dbt: Session | None, models: tuple[str, ...], start: date, end: date,
                 verify: bool = False) -> Holdings:
        if dbt is None or not dbt.parsed:
            return Holdings(unchecked=f"the warehouse is not checked on the {self.name} target from here")
        found: dict[tuple[str, date], content.Content] = {}
        for model in models:
            relation = dbt.relation_name(model)
            if relation is None:
                continue
            query = (content.content_query(self.name, {model: relation}, content.range_condition(start, end))
                     if verify else f"select '{model}', partition_date, count(*), null from {relation}"
                     f" where {content.range_condition(start, end)} group by partition_date")
            try:
                _, rows = dbt.query(query)
            except WarehouseError as error:
                if "TABLE_OR_VIEW_NOT_FOUND" in str(error) or "not found" in str(error).lower():
                    continue  # never built, or dropped: it holds no partition
                return Holdings(unchecked=f"the warehouse could not be checked: {str(error)[:200]}")
            found.update(content.contents_of(rows, self.hash_name))
        return Holdings({key: held.rows for key, held in found.items()}, contents=found if verify else None,
                        hash_used=self.hash_name, span=(start, end) if verify else None, models=models)

    def look(self) -> Holdings:
        return self.holdings(None, (), date.min, date.min)

    def set_aside_if_unreadable(self, looked: Holdings) -> Path | None:
        return None

    def hand_runs(self, recorded: Callable[[str], bool]) -> list[HandRun]:
        return []  # no hand-run table there: the runner reads dbt's own target/run_results.json

    def mark(self) -> Mark | None:
        return None

    def changed_since(self, marked: Mark | None) -> bool:
        return False

    def release(self) -> None:
        pass


def built_models(results: RunResults) -> list[tuple[str, str]]:
    """The models an invocation built well, with their relations."""
    return [(node_name(node.unique_id), node.relation_name) for node in results.nodes
            if node.resource_type == "model" and node.ok and node.relation_name]


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
