"""What the warehouse holds now: rows per partitioned model and partition, read without dbt.

The ledger says what the runner did; this says what is there. Status compares the two, so a
warehouse deleted, replaced, restored from an older copy or edited by hand shows as stale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from runner.dbt import Dbt, WarehouseError, release_warehouse
from runner.partitions import as_date
from runner.project import Project

LOCK_HOLDER = re.compile(r"PID (\d+)")
TABLES = "select table_name from information_schema.tables where table_schema = 'main'"


@dataclass(frozen=True)
class Holdings:
    """Rows per (model, partition), for the models asked about. `gone` says why the warehouse
    holds nothing (every loaded partition is stale); `unchecked` why it could not be read (status
    then trusts the ledger, and says so)."""

    rows: dict[tuple[str, date], int] = field(default_factory=dict)
    gone: str | None = None
    unchecked: str | None = None
    tables: frozenset[str] | None = None  # the tables of its main schema, when it was read

    @property
    def checked(self) -> bool:
        return self.unchecked is None

    def rows_of(self, model: str, day: date) -> int | None:
        if not self.checked:
            return None
        return 0 if self.gone else self.rows.get((model, day), 0)


def holdings(project: Project, models: tuple[str, ...], start: date, end: date) -> Holdings:
    """One read-only look at the warehouse: each model's rows per partition from start to end."""
    if project.target_type != "duckdb":
        return Holdings(unchecked=f"the warehouse is not checked on the {project.target_type or 'unknown'} target from here")
    path = project.warehouse_path
    if not path.exists():
        return Holdings(gone=f"warehouse file is gone ({path})")
    release_warehouse()  # dbt may hold it open in this process, and DuckDB opens a file one way per process
    try:
        connection = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        text = " ".join(str(error).split())
        if "lock" in text.lower():
            holder = LOCK_HOLDER.search(text)
            return Holdings(unchecked="the warehouse could not be checked: a load holds it"
                            + (f" (PID {holder.group(1)})" if holder else ""))
        if "not a valid DuckDB database file" in text:
            return Holdings(gone=f"warehouse is not a DuckDB file ({path})")
        return Holdings(unchecked=f"the warehouse could not be checked: {text[:200]}")
    try:
        tables = {name for (name,) in connection.execute(TABLES).fetchall()}
        rows: dict[tuple[str, date], int] = {}
        for model in models:
            if model not in tables:  # never built, or dropped: it holds no partition
                continue
            found = connection.execute(
                f'select partition_date, count(*) from main."{model}" where partition_date between ? and ? group by 1',
                [start, end],
            ).fetchall()
            rows.update({(model, as_date(day)): count for day, count in found})
        return Holdings(rows, tables=frozenset(tables))
    except duckdb.Error as error:
        return Holdings(unchecked=f"the warehouse could not be checked: {' '.join(str(error).split())[:200]}")
    finally:
        connection.close()


def look(project: Project) -> Holdings:
    """One read-only look at the warehouse for a load: whether it is readable, and its tables."""
    return holdings(project, (), date.min, date.min)


def set_aside_if_unreadable(project: Project, looked: Holdings) -> Path | None:
    """A warehouse file that is not a DuckDB database cannot be loaded into, and every partition it
    was said to hold is stale: move it aside (never delete it) so the load can build a new one."""
    if not looked.gone or not project.warehouse_path.is_file():
        return None
    aside = project.warehouse_path.with_name(
        f"{project.warehouse_path.name}.unreadable-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}")
    project.warehouse_path.rename(aside)
    return aside


def holdings_through(dbt: Dbt, models: tuple[str, ...], start: date, end: date) -> Holdings:
    """The same look, through the dbt adapter a command already holds (Spark: its session is up)."""
    rows: dict[tuple[str, date], int] = {}
    for model in models:
        relation = dbt.relation_name(model)
        if relation is None:
            continue
        try:
            _, found = dbt.query(f"select partition_date, count(*) from {relation}"
                                 f" where partition_date between date '{start}' and date '{end}' group by partition_date")
        except WarehouseError as error:
            if "TABLE_OR_VIEW_NOT_FOUND" in str(error) or "not found" in str(error).lower():
                continue  # never built, or dropped: it holds no partition
            return Holdings(unchecked=f"the warehouse could not be checked: {str(error)[:200]}")
        rows.update({(model, as_date(day)): int(count) for day, count in found})
    return Holdings(rows)


def count_rows(dbt: Dbt, relations: dict[str, str], dates: list[date]) -> dict[tuple[str, date], int]:
    """Rows per model and partition, counted from the data (dbt-duckdb reports no row counts).
    `relations` maps model names to their relations as dbt rendered them."""
    if not relations:
        return {}
    days = ", ".join(f"date '{day.isoformat()}'" for day in dates)
    query = " union all ".join(
        f"select '{model}' as model, partition_date, count(*) as row_count from {relation}"
        f" where partition_date in ({days}) group by partition_date"
        for model, relation in relations.items()
    )
    try:
        _, rows = dbt.query(query)
    except WarehouseError as error:
        raise WarehouseError(f"cannot count rows in {', '.join(relations.values())}: {error}") from None
    counted = {(row[0], as_date(row[1])): int(row[2]) for row in rows}
    # A partition with no rows has no group: it counts zero.
    return {(model, day): counted.get((model, day), 0) for model in relations for day in dates}
