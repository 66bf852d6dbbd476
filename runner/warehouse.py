"""What the warehouse holds now: rows per partitioned model and partition, read without dbt.

The ledger says what the runner did; this says what is there. Status compares the two, so a
warehouse deleted, replaced, restored from an older copy or edited by hand shows as stale.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from runner import content
from runner.artifacts import ArtifactError, RunResults, node_name, parse_run_results
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
    contents: dict[tuple[str, date], content.Content] | None = None  # hashed again: only when verified
    hash_used: str = ""  # the engine's row hash that computed `contents`
    span: tuple[date, date] | None = None  # the partitions whose content was hashed again
    models: tuple[str, ...] = ()  # the models asked about: those the ledger is checked against

    def verified(self, dates: list[date]) -> bool:
        """Whether every one of these partitions' content was hashed again."""
        return self.contents is not None and self.span is not None and bool(dates) and \
            self.span[0] <= dates[0] and dates[-1] <= self.span[1]

    @property
    def checked(self) -> bool:
        return self.unchecked is None

    def rows_of(self, model: str, day: date) -> int | None:
        if not self.checked:
            return None
        return 0 if self.gone else self.rows.get((model, day), 0)

    def content_of(self, model: str, day: date) -> content.Content | None:
        """The partition's content now, when the warehouse was hashed again (None: it was not)."""
        if self.contents is None or not self.checked or self.gone:
            return None
        return self.contents.get((model, day)) or content.empty(self.hash_used)


def holdings(project: Project, models: tuple[str, ...], start: date, end: date, verify: bool = False) -> Holdings:
    """One read-only look at the warehouse: each model's rows per partition from start to end, and
    with `verify` their content hashed again (one scan of every column instead of a count)."""
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
        # Never built, or dropped: such a model holds no partition.
        relations = {model: f'main."{model}"' for model in models if model in tables}
        if not relations:
            return Holdings({}, tables=frozenset(tables), contents={} if verify else None, hash_used=engine_hash(project),
                            span=(start, end) if verify else None, models=models)
        if verify:
            found = content.contents_of(connection.execute(
                content.content_query("duckdb", relations, content.range_condition(start, end))).fetchall(), engine_hash(project))
            return Holdings({key: held.rows for key, held in found.items()}, tables=frozenset(tables), contents=found,
                            hash_used=engine_hash(project), span=(start, end), models=models)
        rows: dict[tuple[str, date], int] = {}
        for model, relation in relations.items():
            counted = connection.execute(
                f"select partition_date, count(*) from {relation} where partition_date between ? and ? group by 1", [start, end],
            ).fetchall()
            rows.update({(model, as_date(day)): count for day, count in counted})
        return Holdings(rows, tables=frozenset(tables), models=models)
    except duckdb.Error as error:
        return Holdings(unchecked=f"the warehouse could not be checked: {' '.join(str(error).split())[:200]}")
    finally:
        connection.close()


HAND_RUNS = "runner_hand_runs"  # where a hand run's hook leaves its results (macros/hand_runs.sql)


def hand_runs(project: Project, recorded: Callable[[str], bool]) -> list[tuple[RunResults, dict[tuple[str, date], content.Content]]]:
    """The hand runs left in the warehouse that are not `recorded` yet, oldest first: each one's
    results (run_results.json's shape) and what its partitions hold now, read without dbt. Nothing
    when the warehouse cannot be read (status says why elsewhere)."""
    if project.target_type != "duckdb" or not project.warehouse_path.is_file():
        return []
    release_warehouse()
    try:
        connection = duckdb.connect(str(project.warehouse_path), read_only=True)
    except duckdb.Error:
        return []
    found = []
    try:
        tables = {name for (name,) in connection.execute(TABLES).fetchall()}
        if HAND_RUNS not in tables:
            return []
        for invocation_id, text in connection.execute(f"select invocation_id, run_results from main.{HAND_RUNS}").fetchall():
            if recorded(invocation_id):
                continue
            try:
                results = parse_run_results(text, f"hand run {invocation_id}")
            except ArtifactError:
                continue
            models = {name for name, _ in built_models(results)} & tables
            relations = {model: f'main."{model}"' for model in sorted(models)}
            query = content.content_query("duckdb", relations, content.dates_condition(results.partition_dates))
            held = content.contents_of(connection.execute(query).fetchall(), engine_hash(project)) if relations else {}
            empty = content.empty(engine_hash(project))
            found.append((results, {(model, day): held.get((model, day), empty)
                                    for model in relations for day in results.partition_dates}))
    except duckdb.Error:
        return []
    finally:
        connection.close()
    return sorted(found, key=lambda pair: pair[0].generated_at)


def built_models(results: RunResults) -> list[tuple[str, str]]:
    """The models an invocation built well, with their relations."""
    return [(node_name(node.unique_id), node.relation_name) for node in results.nodes
            if node.resource_type == "model" and node.ok and node.relation_name]


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


def holdings_through(dbt: Dbt, models: tuple[str, ...], start: date, end: date, verify: bool = False) -> Holdings:
    """The same look, through the dbt adapter a command already holds (Spark: its session is up)."""
    found: dict[tuple[str, date], content.Content] = {}
    hash_used = engine_hash(dbt.project)
    for model in models:
        relation = dbt.relation_name(model)
        if relation is None:
            continue
        query = (content.content_query(dbt.project.target_type or "", {model: relation}, content.range_condition(start, end))
                 if verify else f"select '{model}', partition_date, count(*), null from {relation}"
                 f" where {content.range_condition(start, end)} group by partition_date")
        try:
            _, rows = dbt.query(query)
        except WarehouseError as error:
            if "TABLE_OR_VIEW_NOT_FOUND" in str(error) or "not found" in str(error).lower():
                continue  # never built, or dropped: it holds no partition
            return Holdings(unchecked=f"the warehouse could not be checked: {str(error)[:200]}")
        found.update(content.contents_of(rows, hash_used))
    return Holdings({key: held.rows for key, held in found.items()}, contents=found if verify else None, hash_used=hash_used,
                    span=(start, end) if verify else None, models=models)


def mark_of(project: Project) -> tuple[int, int, int] | None:
    """The warehouse file as it is now: size, modification time, inode; any write changes one. A
    write-ahead log beside it (a writer that has not checkpointed, or crashed) is a change too."""
    from runner.arrivals import signature

    wal = project.warehouse_path.with_name(project.warehouse_path.name + ".wal")
    return None if wal.exists() else signature(project.warehouse_path)


def changed_since_marked(project: Project, marked: tuple[int, int, int] | None) -> bool:
    """Whether something other than the runner wrote to the warehouse since its last write."""
    now = mark_of(project)
    return now is None and project.warehouse_path.exists() or now != marked


def engine_hash(project: Project) -> str:
    """The name of the row hash this project's engine computes (content.hash_name)."""
    return content.hash_name(project.target_type or "unknown", duckdb.__version__)


def measure(dbt: Dbt, relations: dict[str, str], dates: list[date]) -> dict[tuple[str, date], content.Content]:
    """Rows and content fingerprint per model and partition, computed by the engine from the data
    (dbt-duckdb reports no row counts). `relations` maps model names to their relations as dbt
    rendered them. A partition with no rows has no group: it holds nothing."""
    if not relations:
        return {}
    query = content.content_query(dbt.project.target_type or "", relations, content.dates_condition(dates))
    try:
        _, rows = dbt.query(query)
    except WarehouseError as error:
        raise WarehouseError(f"cannot count rows in {', '.join(relations.values())}: {error}") from None
    hash_used = engine_hash(dbt.project)
    found = content.contents_of(rows, hash_used)
    return {(model, day): found.get((model, day), content.empty(hash_used)) for model in relations for day in dates}
