"""Where things are: the dbt project, the warehouse, the ledger, the daily files."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from runner.partitions import DefinedPartitions, parse_partition_date

PARTITIONED_SELECTOR = "stg_daily_files__quotes+"
PRIMARY_MODEL = "raw_partition_data"


class ProjectError(Exception):
    """The project or its configuration cannot be used as it is."""


@dataclass(frozen=True)
class Project:
    project_dir: Path
    warehouse_path: Path
    ledger_path: Path
    source_dir: Path
    target: str | None = None

    @property
    def artifacts_dir(self) -> Path:
        """The runner's own dbt artifacts: one folder per invocation, never the shared target/."""
        return self.project_dir / "target" / "runner"

    @property
    def hand_run_results(self) -> Path:
        """Where a `dbt run` made by hand leaves its results."""
        return self.project_dir / "target" / "run_results.json"

    def source_file(self, day) -> Path:
        return self.source_dir / f"{day.isoformat()}.csv"

    def project_vars(self) -> dict:
        with open(self.project_dir / "dbt_project.yml") as handle:
            return (yaml.safe_load(handle) or {}).get("vars") or {}

    def defined_partitions(self) -> DefinedPartitions:
        """The partition range declared once, in dbt_project.yml vars."""
        found = self.project_vars()
        try:
            start = parse_partition_date(str(found["partitions_start_date"]))
            end_text = found.get("partitions_end_date")
            end = parse_partition_date(str(end_text)) if end_text else None
        except (KeyError, ValueError) as error:
            raise ProjectError(f"dbt_project.yml vars: bad partitions_start_date/partitions_end_date: {error}") from None
        return DefinedPartitions(start, end)


def find_project_dir(explicit: str | None) -> Path:
    """The dbt project: --project-dir, else the working directory, else this repository."""
    candidates = [Path(explicit)] if explicit else [Path.cwd(), Path(__file__).resolve().parent.parent]
    for candidate in candidates:
        if (candidate / "dbt_project.yml").is_file():
            return candidate.resolve()
    raise ProjectError(f"no dbt_project.yml in {candidates[0]}")


def load_project(project_dir: str | None = None, source_dir: str | None = None, target: str | None = None) -> Project:
    root = find_project_dir(project_dir)
    warehouse = Path(os.environ.get("WAREHOUSE_PATH") or root / "data" / "warehouse.duckdb")
    warehouse = warehouse if warehouse.is_absolute() else Path.cwd() / warehouse
    ledger = Path(os.environ.get("LEDGER_PATH") or warehouse.with_suffix(".ledger.duckdb"))
    project = Project(root, warehouse.resolve(), ledger.resolve(), root, target or os.environ.get("DBT_TARGET"))
    configured = source_dir or str(project.project_vars().get("source_dir", "data/source"))
    source = Path(configured) if source_dir is None or Path(configured).is_absolute() else Path.cwd() / configured
    source = source if source.is_absolute() else root / source
    return Project(root, project.warehouse_path, project.ledger_path, source.resolve(), project.target)
