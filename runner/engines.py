"""The warehouses the runner knows, behind one small seam (runner/engine_seam.py): what a warehouse
holds per partition, whether something else wrote to it, letting go of it, and whether a look at it
needs dbt's session.

A DuckDB file is read directly, read-only, with no dbt start-up (runner/duckdb_file.py); any other
adapter (Spark) is asked through the dbt session a command holds (runner/through_dbt.py). The
project picks one by its profile's type (Project.engine): no other module asks which warehouse it is.
"""

from __future__ import annotations

from pathlib import Path

from runner.duckdb_file import DuckDBFile
from runner.engine_seam import Engine
from runner.through_dbt import ThroughDbt


def engine_for(adapter: str | None, warehouse_path: Path) -> Engine:
    """The engine of a profile's adapter type: a DuckDB file, else any adapter through dbt."""
    return DuckDBFile(warehouse_path) if adapter == "duckdb" else ThroughDbt(adapter or "unknown")
