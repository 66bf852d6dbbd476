"""The seam between the runner and its warehouses: what an engine offers (Engine) and may ask of
dbt (Session), and what both engines share: the warehouse's mark, a hand run, the row hash's name."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Protocol

import duckdb

from runner import content
from runner.artifacts import RunResults, node_name
from runner.holdings import Holdings

Mark = tuple[int, int, int]  # what the runner recorded of the warehouse after its own last write
HandRun = tuple[RunResults, dict[tuple[str, date], content.Content]]


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
    copies_ledger_for_dbt: bool  # dbt's runner_ledger source reads a Parquet copy beside the warehouse file

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


def hash_name(adapter: str) -> str:
    return content.hash_name(adapter, duckdb.__version__)


def built_models(results: RunResults) -> list[tuple[str, str]]:
    """The models an invocation built well, with their relations."""
    return [(node_name(node.unique_id), node.relation_name) for node in results.nodes
            if node.resource_type == "model" and node.ok and node.relation_name]
