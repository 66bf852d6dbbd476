"""Where things are: the dbt project, the warehouse, the ledger, the daily files."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from runner import code_cache
from runner.daily_files import DEFAULT_PATTERN, DailyFiles, PatternError, checked_pattern
from runner.engines import Engine, engine_for
from runner.errors import ProjectError, UsageProblem
from runner.model_files import materializations, partitioned_models
from runner.partitions import DefinedPartitions, parse_duration, parse_partition_date
from runner.profiles import default_target, profile_targets, profile_warehouse
from runner.project_vars import project_vars

# The dbt selectors (selectors.yml) of what a load builds, and of its models alone (what is compiled
# to fingerprint their code). The models' names: Project.models.
PARTITIONED_MODELS_SELECTOR = "partitioned_models"
TARGET_NAME = re.compile(r"[A-Za-z0-9_-]+")
GLOB = re.compile(r"[*?\[\]{}]")
RESERVED_CATALOGS = {"main", "system", "temp", "memory"}  # DuckDB's own database and schema names


@dataclass(frozen=True)
class ProjectModels:
    """A project's partitioned models in lineage order, and the incremental ones among them: they
    keep every partition, so the warehouse can be checked against the ledger for them (a staging
    table holds only the last run's)."""

    partitioned: tuple[str, ...]
    incremental: tuple[str, ...]

    @property
    def primary(self) -> str:
        """The model whose rows a partition's row count shows: the first that keeps every partition."""
        return (self.incremental or self.partitioned)[0]


@dataclass(frozen=True)
class Project:
    project_dir: Path
    warehouse_path: Path
    ledger_path: Path
    source_dir: Path
    target: str | None = None  # None: the profile's default target
    default_target: str | None = None
    adapter: str | None = None  # the profile's type for the target: duckdb, spark
    file_pattern: str = DEFAULT_PATTERN  # the daily_file_pattern var: runner/daily_files.py
    # The project's vars as dbt renders them (runner/project_vars.py); None: read when asked.
    declared_vars: dict | None = field(default=None, compare=False, hash=False)

    @property
    def target_name(self) -> str | None:
        return self.target or self.default_target

    @cached_property
    def engine(self) -> Engine:
        """The warehouse behind the target, as the runner looks at it (runner/engines.py)."""
        return engine_for(self.adapter, self.warehouse_path)

    @cached_property
    def models(self) -> ProjectModels:
        """This project's partitioned models as dbt resolved them at the runner's last parse of the
        project as it is now (remembered with the code fingerprints: no dbt here); before any parse
        of it, read from its own files (selectors.yml, the models' configs)."""
        resolved = code_cache.cached(self.artifacts_dir, code_cache.project_key(self), kind="models")
        if resolved:
            return ProjectModels(tuple(resolved["partitioned"]), tuple(resolved["incremental"]))
        partitioned = partitioned_models(self.project_dir)
        kinds = materializations(self.project_dir, partitioned)
        return ProjectModels(partitioned, tuple(name for name in partitioned if kinds.get(name) == "incremental"))

    def models_resolved(self, models: ProjectModels) -> None:
        """dbt has just resolved the models (a parse): they are this project's from now on."""
        self.__dict__["models"] = models  # the cached_property's own slot

    def ran_on_this_target(self, target: str | None) -> bool:
        """Whether an invocation that names `target` (None: it named none) ran on this project's target."""
        return (target or self.default_target) == self.target_name

    @property
    def artifacts_dir(self) -> Path:
        """The runner's own dbt artifacts: one folder per invocation, never the shared target/."""
        return code_cache.runner_folder(self.project_dir)

    @property
    def hand_run_results(self) -> Path:
        """Where a `dbt run` made by hand leaves its results."""
        return self.project_dir / "target" / "run_results.json"

    @property
    def daily_files(self) -> DailyFiles:
        """The daily files' naming rule (the dbt side: the daily_file_name macro)."""
        return DailyFiles(self.source_dir, self.file_pattern)

    def source_file(self, day) -> Path:
        """The daily file of a partition: <source_dir>/<daily_file_pattern with its date>."""
        return self.daily_files.path(day)

    def partition_of_file(self, path: Path) -> date | None:
        """The partition whose daily file path is, or None when it is not one (the rule of source_file)."""
        return self.daily_files.partition_of(path)

    def defined_partitions(self) -> DefinedPartitions:
        """The partition range declared once, in dbt_project.yml vars."""
        found = self.declared_vars if self.declared_vars is not None else project_vars(self.project_dir, self.target_name)
        try:
            start = parse_partition_date(str(found["partitions_start_date"]))
            end_text = found.get("partitions_end_date")
            end = parse_partition_date(str(end_text)) if end_text else None
        except (KeyError, ValueError) as error:
            raise UsageProblem(f"dbt_project.yml vars: bad partitions_start_date/partitions_end_date: {error}") from None
        offset, zone = found.get("partitions_end_offset", 0), str(found.get("partitions_timezone", "UTC"))
        if not isinstance(offset, int) or isinstance(offset, bool):
            raise UsageProblem(f"dbt_project.yml vars: partitions_end_offset must be a whole number of days, got {offset!r}")
        try:
            ZoneInfo(zone)
        except (ValueError, ZoneInfoNotFoundError):
            raise UsageProblem(f"dbt_project.yml vars: partitions_timezone {zone!r} is not a time zone (for example UTC or "
                               "America/New_York)") from None
        late = found.get("partitions_late_after")
        try:
            late_after = parse_duration(str(late)) if late not in (None, "") else None
        except ValueError as error:
            raise UsageProblem(f"dbt_project.yml vars: partitions_late_after: {error}") from None
        return DefinedPartitions(start, end, offset, zone, late_after)


def find_project_dir(explicit: str | None) -> Path:
    """The dbt project: --project-dir, else the working directory, else this repository."""
    candidates = [Path(explicit)] if explicit else [Path.cwd(), Path(__file__).resolve().parent.parent]
    for candidate in candidates:
        if (candidate / "dbt_project.yml").is_file():
            return candidate.resolve()
    raise ProjectError(f"no dbt_project.yml in {candidates[0]}")


def load_project(project_dir: str | None = None, source_dir: str | None = None, target: str | None = None) -> Project:
    root = find_project_dir(project_dir)
    target = checked_target(target or os.environ.get("DBT_TARGET") or None)
    default = default_target(root)
    targets = profile_targets(root)
    if targets and (target or default) not in targets:
        raise UsageProblem(f"no target {target or default!r} in profiles.yml: choose from {', '.join(targets)}")
    configured = os.environ.get("WAREHOUSE_PATH") or profile_warehouse(root, target or default)
    warehouse = Path(configured or root / "data" / "warehouse.duckdb")
    warehouse = (warehouse if warehouse.is_absolute() else Path.cwd() / warehouse).resolve()
    found = project_vars(root, target or default)
    configured = source_dir or str(found.get("source_dir", "data/source"))
    source = Path(configured) if source_dir is None or Path(configured).is_absolute() else Path.cwd() / configured
    source = (source if source.is_absolute() else root / source).resolve()
    if GLOB.search(str(source)):
        # dbt's file readers take a path as a pattern: it would match other folders' files
        raise UsageProblem(f"source folder {source}: a folder name with *, ?, [, ], {{ or }} is not supported")
    if source_dir is not None and not source.is_dir():
        raise UsageProblem(f"--source-dir {source_dir}: not an existing directory")
    try:
        pattern = checked_pattern(found.get("daily_file_pattern", DEFAULT_PATTERN))
    except PatternError as error:
        raise UsageProblem(f"dbt_project.yml vars: {error}") from None
    adapter = targets.get(target or default)
    if adapter == "duckdb" and warehouse.stem.lower() in RESERVED_CATALOGS:
        # DuckDB names the database after the file: `main` is also its schema, and dbt's reload of a
        # table then fails on a name clash (`Could not rename ... another entry with this name`).
        raise UsageProblem(f"warehouse {warehouse}: DuckDB names the database after the file, and {warehouse.stem!r} "
                           "is one of its own names: give the file another name")
    ledger = ledger_path(warehouse, target, default)
    if ledger == warehouse:  # the ledger's tables would go into the warehouse, and it would be checked against itself
        raise UsageProblem(f"LEDGER_PATH {ledger} is the warehouse file: give the ledger a file of its own")
    return Project(root, warehouse, ledger, source, target, default, adapter, pattern, found)


def checked_target(name: str | None) -> str | None:
    """A target name goes into file names (its ledger) and dbt's arguments: letters, digits, '_', '-'."""
    if name is not None and not TARGET_NAME.fullmatch(name):
        raise ProjectError(f"target {name!r}: a target name is letters, digits, '_' and '-'")
    return name


def ledger_path(warehouse: Path, target: str | None, default: str | None) -> Path:
    """LEDGER_PATH, else beside the warehouse file: one ledger per target, so partitions loaded on
    one engine never count as loaded on another."""
    if os.environ.get("LEDGER_PATH"):
        return Path(os.environ["LEDGER_PATH"]).resolve()
    suffix = ".ledger.duckdb" if target in (None, default) else f".{target}.ledger.duckdb"
    return warehouse.with_suffix(suffix)
