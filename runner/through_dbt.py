"""The engine of any adapter but DuckDB (Spark): the warehouse asked through the dbt session a
command already holds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from runner import content
from runner.engine_seam import HandRun, Mark, Session, hash_name
from runner.errors import WarehouseError
from runner.holdings import Holdings


@dataclass(frozen=True)
class ThroughDbt:
    """Any other adapter (Spark): asked through the dbt session a command already holds. It keeps
    no change marker the runner can read cheaply: content is hashed again on loads and --verify."""

    name: str
    planning_needs_session: bool = True
    keeps_hand_runs: bool = False
    copies_ledger_for_dbt: bool = False

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
