"""The contenders: each one's commands, run in a fresh folder with its own copy of a project and warehouse."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PRODUCT_FILES = ["dbt_project.yml", "selectors.yml", "profiles.yml", "models", "macros", "seeds", "data-tests"]
MICROBATCH_PROJECT = REPO / "bench" / "microbatch_project"

LABELS = {
    "single_scan": "single DuckDB query (floor)",
    "duckdb_loop": "plain DuckDB delete+insert loop",
    "dbt_microbatch": "dbt microbatch, one invocation",
    "dbt_process_loop": "dbt run --vars, a process each",
    "runner_per_partition": "runner backfill --chunk-size 1",
    "runner_batched": "runner backfill (default chunk)",
}
BASELINES = ["dbt_process_loop", "duckdb_loop", "dbt_microbatch", "single_scan"]
RUNNERS = ["runner_per_partition", "runner_batched"]
ORDER = ["single_scan", "duckdb_loop", "dbt_microbatch", "dbt_process_loop", "runner_per_partition", "runner_batched"]
# Sweeps, for choosing the defaults: runner_chunk_N is `runner backfill --chunk-size N`, runner_mb_N
# is `runner backfill --chunk-mb N`.
SWEEPS = {"runner_chunk_": "--chunk-size", "runner_mb_": "--chunk-mb"}
# before_runner_batched, before_runner_per_partition: the same runner on the project files (models,
# macros, ...) of another commit (`--before REF`), so a change to the project is measured against the
# project before it in one run, on the same machine and minute.
BEFORE = "before_"


def sweep_name(option: str, value: str) -> str:
    return next(prefix for prefix, swept in SWEEPS.items() if swept == option) + value


def swept_option(name: str) -> list[str]:
    """The option and value a sweep contender runs the runner with; [] for any other contender."""
    return next(([option, name.removeprefix(prefix)] for prefix, option in SWEEPS.items() if name.startswith(prefix)), [])


def label(name: str) -> str:
    if name.startswith(BEFORE):
        return label(name.removeprefix(BEFORE)) + " (project before)"
    swept = swept_option(name)
    return " ".join(["runner backfill", *swept]) if swept else LABELS[name]


@dataclass(frozen=True)
class Workload:
    days: int
    rows: int
    process_loop_days: int
    per_partition_days: int
    first_day: date = date(2018, 1, 1)

    @property
    def name(self) -> str:
        return f"{self.days}x{self.rows}"

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=self.days - 1)

    def first_days(self, count: int) -> list[date]:
        return [self.first_day + timedelta(days=offset) for offset in range(min(count, self.days))]


@dataclass
class Plan:
    """What to run for one contender, and where its results land."""

    name: str
    folder: Path
    partitions: int
    commands: list[list[str]]
    setup: list[list[str]] = field(default_factory=list)
    warehouse: Path | None = None
    ledger: Path | None = None
    project: Path | None = None
    timings: Path | None = None  # per-partition seconds written by the contender itself
    reset: list[Path] = field(default_factory=list)  # removed after the set-up, before the timed run


def chunk_size_supported() -> bool:
    """Whether this runner has the batched mode (`backfill --chunk-size`)."""
    done = subprocess.run([str(BIN / "runner"), "backfill", "--help"], capture_output=True, text=True)
    return "--chunk-size" in done.stdout


def copy_project(source: Path, files: list[str] | None, destination: Path) -> Path:
    if files is None:
        shutil.copytree(source, destination)
    else:
        destination.mkdir(parents=True)
        for name in files:
            path = source / name
            if path.exists():
                (shutil.copytree if path.is_dir() else shutil.copy)(path, destination / name)
    return destination


def dbt_vars(source_dir: Path, **extra) -> str:
    return json.dumps({**extra, "source_dir": str(source_dir)})


def runner_command(project: Path, days: list[date], source_dir: Path, options: list[str] = ()) -> list[str]:
    return [str(BIN / "runner"), "--project-dir", str(project), "backfill",
            "--start", days[0].isoformat(), "--end", days[-1].isoformat(), "--source-dir", str(source_dir), *options]


def dbt_args(project: Path) -> list[str]:
    return ["--project-dir", str(project), "--profiles-dir", str(project)]


def make_templates(root: Path, before: str | None = None) -> dict[str, Path]:
    """One copy of each project per workload, that every run copies again; with `before` (a git
    revision), also the product's project files as they were at that commit."""
    product = copy_project(REPO, PRODUCT_FILES, root / "template-product")
    microbatch = copy_project(MICROBATCH_PROJECT, None, root / "template-microbatch")
    for name in ("target", "logs"):
        shutil.rmtree(microbatch / name, ignore_errors=True)
    templates = {"product": product, "microbatch": microbatch}
    if before:
        templates["before"] = project_at(before, root / "template-before")
    return templates


def project_at(revision: str, destination: Path) -> Path:
    """The product's project files (PRODUCT_FILES) as they were at a git revision, via git archive."""
    destination.mkdir(parents=True)
    listed = subprocess.run(["git", "ls-tree", "--name-only", revision, *PRODUCT_FILES], cwd=REPO, capture_output=True,
                            text=True, check=True).stdout.split()
    archive = subprocess.run(["git", "archive", "--format=tar", revision, *listed], cwd=REPO, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(destination)], input=archive.stdout, check=True)
    return destination


def plan(name: str, folder: Path, workload: Workload, source_dir: Path, templates: dict[str, Path], chunked: bool,
         warm: bool = True) -> Plan | None:
    """The commands of one contender in its own folder; None when this runner cannot run it.
    warm: parse the dbt project first, untimed, with this run's own warehouse path (the profile is
    part of dbt's partial-parse key), so the timed run starts as a user's would on a parsed project."""
    folder.mkdir(parents=True)
    warehouse = folder / "warehouse.duckdb"
    start, end = workload.first_day.isoformat(), workload.last_day.isoformat()
    python = str(BIN / "python")
    if name == "single_scan":
        command = [python, "-m", "bench.single_scan", str(warehouse), str(source_dir)]
        return Plan(name, folder, workload.days, [command], warehouse=warehouse)
    if name == "duckdb_loop":
        timings = folder / "timings.json"
        command = [python, "-m", "bench.duckdb_loop", str(warehouse), str(source_dir), start, end, str(timings)]
        return Plan(name, folder, workload.days, [command], warehouse=warehouse, timings=timings)
    if name == "dbt_microbatch":
        project = copy_project(templates["microbatch"], None, folder / "project")
        end_exclusive = (workload.last_day + timedelta(days=1)).isoformat()
        command = [str(BIN / "dbt"), "run", *dbt_args(project), "--event-time-start", start, "--event-time-end", end_exclusive,
                   "--vars", dbt_vars(source_dir)]
        setup = [[str(BIN / "dbt"), "parse", *dbt_args(project), "--vars", dbt_vars(source_dir)]] if warm else []
        return Plan(name, folder, workload.days, [command], setup=setup, warehouse=warehouse, project=project)
    if name == "dbt_process_loop":
        project = copy_project(templates["product"], None, folder / "project")
        days = workload.first_days(workload.process_loop_days)
        commands = [[str(BIN / "dbt"), "run", *dbt_args(project), "--vars", dbt_vars(source_dir, partition_date=day.isoformat())]
                    for day in days]
        setup = [[str(BIN / "dbt"), "seed", *dbt_args(project), "--vars", dbt_vars(source_dir)]]
        return Plan(name, folder, len(days), commands, setup=setup, warehouse=warehouse, project=project)
    if name in RUNNERS or swept_option(name) or name.removeprefix(BEFORE) in RUNNERS:
        template = templates["before"] if name.startswith(BEFORE) else templates["product"]
        mode = name.removeprefix(BEFORE)
        if mode != "runner_per_partition" and not chunked:
            return None
        project = copy_project(template, None, folder / "project")
        options = ["--chunk-size", "1"] if mode == "runner_per_partition" and chunked else swept_option(mode)
        ledger = folder / "ledger.duckdb"
        # One partition loaded through the runner itself parses the project; then a new, empty warehouse.
        setup = [[str(BIN / "runner"), "--project-dir", str(project), "run", workload.first_day.isoformat(),
                  "--source-dir", str(source_dir)]] if warm else []
        reset = [folder / f"{base}{suffix}" for base in ("warehouse.duckdb", "ledger.duckdb") for suffix in ("", ".wal")]
        # Per partition, the runner pays dbt's whole build for every day: like the process loop, it
        # runs on the first days only (--per-partition-days), reported per partition.
        days = workload.first_days(workload.per_partition_days if mode == "runner_per_partition" else workload.days)
        return Plan(name, folder, len(days), [runner_command(project, days, source_dir, options)],
                    setup=setup, warehouse=warehouse, ledger=ledger, project=project, reset=reset)
    raise ValueError(f"unknown contender {name}")
