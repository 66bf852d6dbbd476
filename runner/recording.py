"""Every write to the ledger: a load's in-flight marker and its end, runs made by hand, the seeds
loaded; and turning a dbt invocation's results into ledger rows, one per partition and node."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from runner import warehouse
from runner.artifacts import ArtifactError, NodeResult, RunResults, node_name, read_run_results
from runner.checks import Found, describe
from runner.content import Content
from runner.daily_files import DailyFiles
from runner.dbt import Dbt, WarehouseError
from runner.engine_seam import built_models
from runner.fingerprints import code_fingerprint, file_fingerprint, modified_after
from runner.ledger import Ledger, PartitionRun
from runner.project import Project
from runner.seeds import as_text, seed_fingerprints
from runner.states import CHANGED_AFTER_THE_RUN, RUNNING, this_host

INVOCATION_NODE = "invocation"


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def partition_runs(
    results: RunResults,
    source_files: dict[date, Path],
    file_fingerprints: dict[date, str | None],
    contents: dict[tuple[str, date], Content],
    daily_files: DailyFiles,
    found: dict[str, dict[date, Found]] | None = None,
    seeds: str | None = None,
) -> list[PartitionRun]:
    """Every node of the invocation, for every partition it covered. `found`: what each failed or
    warning test found, by test and partition (checks.py); a partition it found nothing in passed."""
    recorded_at = now()
    runs = []
    for day in results.partition_dates:
        for node in results.nodes:
            status, message, failures, by_rule = check_outcome(node, day, source_files[day], (found or {}).get(node.unique_id))
            runs.append(PartitionRun(
                partition_date=day,
                invocation_id=results.invocation_id,
                unique_id=node.unique_id,
                resource_type=node.resource_type,
                status=status,
                message=message,
                failures=failures,
                execution_time=node.execution_time,
                started_at=node.started_at,
                completed_at=node.completed_at,
                rows_loaded=held.rows if (held := loaded(node, day, contents)) else None,
                source_file=str(source_files[day]),
                source_fingerprint=file_fingerprints.get(day),
                code_fingerprint=code_fingerprint(node.compiled_code, daily_files) if node.resource_type == "model" else None,
                recorded_at=recorded_at,
                seeds_fingerprint=seeds if node.resource_type == "model" else None,
                failures_by_rule=json.dumps(by_rule) if by_rule else None,
                content_fingerprint=held.fingerprint if held else None,
            ))
    return runs


def loaded(node: NodeResult, day: date, contents: dict[tuple[str, date], Content]) -> Content | None:
    """What a model that ran well holds of the partition after the invocation."""
    return contents.get((node_name(node.unique_id), day)) if node.resource_type == "model" and node.ok else None


def check_outcome(node: NodeResult, day: date, source_file: Path,
                  found: dict[date, Found] | None) -> tuple[str, str | None, int | None, dict[str, int]]:
    """A node's status, message, failures and failures by rule for one partition. A test's result
    covers every partition of the invocation; what it found tells which partitions it was about."""
    if found is None:
        return node.status, node.message, node.failures, {}
    if day not in found:
        return "pass", None, 0, {}
    outcome = "failed" if node.status == "fail" else "warned"
    here = found[day]
    return node.status, describe(node_name(node.unique_id), outcome, here, str(source_file)), here.rows, here.by_rule


def marker_runs(
    invocation_id: str, dates: list[date], source_files: dict[date, Path], status: str, message: str,
    runner: tuple[int, str] | None = None,
) -> list[PartitionRun]:
    """Rows for the runner's own view of an invocation: in flight (with the runner's PID and host,
    which status checks), interrupted, or stopped before dbt wrote results (a lock, a crash)."""
    at = now()
    pid, host = runner or (None, None)
    return [
        PartitionRun(day, invocation_id, INVOCATION_NODE, INVOCATION_NODE, status, message, None, 0.0,
                     at, at, None, str(source_files[day]), None, None, at, runner_pid=pid, runner_host=host)
        for day in dates
    ]


class LoadRecord:
    """The ledger's account of one load: a marker row per partition says it is in flight from the
    start, so a killed runner leaves a true ledger; then its end replaces the marker."""

    def __init__(self, ledger: Ledger, dates: list[date], files: dict[date, Path]):
        self.ledger, self.dates, self.files = ledger, dates, files
        self.marker = f"runner-{uuid.uuid4()}"
        ledger.record(marker_runs(self.marker, dates, files, RUNNING, f"loading in runner PID {os.getpid()}",
                                  runner=(os.getpid(), this_host())))

    def stopped(self, status: str, message: str) -> None:
        """It ended before dbt wrote results (error) or was cut short (interrupted)."""
        self.ledger.record(marker_runs(self.marker, self.dates, self.files, status, message), replacing=self.marker)

    def finished(self, runs: list[PartitionRun]) -> None:
        self.ledger.record(runs, replacing=self.marker)


def warehouse_changed(project: Project, ledger: Ledger) -> bool:
    """Whether something other than the runner wrote to the warehouse since the runner marked it."""
    return project.engine.changed_since(ledger.warehouse_mark(str(project.warehouse_path)))


def mark_warehouse(project: Project, ledger: Ledger) -> None:
    """After the runner's own write, when the ledger accounts for the whole warehouse: status may
    count rather than hash until something else writes to it."""
    project.engine.release()  # its last write (a checkpoint) happens on close
    ledger.mark_warehouse(str(project.warehouse_path), project.engine.mark())


def seeds_loaded(ledger: Ledger, warehouse_path: str, fingerprints: dict[str, str]) -> None:
    ledger.record_seeds(warehouse_path, fingerprints)


def built_relations(results: RunResults) -> dict[str, str]:
    """The models an invocation built, by name, with their relations."""
    return dict(built_models(results))


def as_of(fingerprints: dict[date, str | None], files: dict[date, Path], began: datetime) -> dict[date, str | None]:
    """For a run the runner did not watch (a hand run): the files' fingerprints now, except where a
    file was written after the run began (what it read is unknown then)."""
    return {day: CHANGED_AFTER_THE_RUN if modified_after(files[day], began) else fingerprint
            for day, fingerprint in fingerprints.items()}


def unchanged_during(before: dict[date, str | None], files: dict[date, Path]) -> dict[date, str | None]:
    """For a load the runner made: the files' fingerprints as the load began, except where the bytes
    changed while it ran. Judged by content, never by clock: a file dated in the future is fine."""
    return {day: fingerprint if file_fingerprint(files[day]) == fingerprint else CHANGED_AFTER_THE_RUN
            for day, fingerprint in before.items()}


def record_hand_run(dbt: Dbt, ledger: Ledger, path: Path, results: RunResults | None = None) -> int:
    """Record a `dbt run/build --vars '{partition_date: ...}'` made outside the runner (its
    run_results.json at path, read already or not). Returns how many partitions it covered;
    0 when it was recorded before."""
    results = read_run_results(path) if results is None else results
    rows = hand_run_rows(dbt, ledger, path, results)
    ledger.record(rows)
    return len(results.partition_dates) if rows else 0


def hand_run_rows(dbt: Dbt, ledger: Ledger, path: Path, results: RunResults) -> list[PartitionRun]:
    """The ledger's rows for a hand run's run_results.json, as it ran; none when the ledger has it.
    Raises ArtifactError when it is no hand run of this project's partitions on this target."""
    if not results.partition_dates:
        raise ArtifactError(f"{path}: the invocation names no partition_date in its --vars")
    project = dbt.project
    if not project.ran_on_this_target(results.target):
        ran_on = results.target or project.default_target
        raise ArtifactError(f"{path}: the invocation ran on target {ran_on}, not {project.target_name}: use --target {ran_on}")
    if ledger.has_invocation(results.invocation_id):
        return []
    try:
        contents = warehouse.measure(dbt, built_relations(results), results.partition_dates)
    except WarehouseError as error:  # the warehouse was replaced since, or the run used another one
        raise ArtifactError(f"{path}: its tables are not in {project.warehouse_path}: {error}") from None
    return as_it_ran(project, results, project.source_dir, contents)


def as_it_ran(project: Project, results: RunResults, source_dir: Path,
              contents: dict[tuple[str, date], Content]) -> list[PartitionRun]:
    """A hand run's rows: its own times, its files in source_dir as they are now (unless written
    since it began: what it read is unknown then), what its partitions hold, the seeds now."""
    daily_files = DailyFiles(source_dir, project.file_pattern)
    files = {day: daily_files.path(day) for day in results.partition_dates}
    fingerprints = as_of({day: file_fingerprint(path) for day, path in files.items()}, files, results.started_at)
    return partition_runs(results, files, fingerprints, contents, daily_files, seeds=as_text(seed_fingerprints(project)))


def unrecorded_hand_runs(dbt: Dbt, ledger: Ledger) -> list[PartitionRun]:
    """The rows of the hand runs (`dbt run/build --vars '{partition_date: ...}'`) that this
    project's warehouse keeps and its ledger lacks, each as it ran: its own times, its own source
    folder, what its partitions hold. A hand run against another warehouse left its results there:
    it is never this ledger's. Nothing is written: a load records them, a look shows them."""
    project = dbt.project
    if not project.engine.keeps_hand_runs:  # dbt's own artifact of the last hand run, then
        return run_results_rows(dbt, ledger)
    rows = []
    for results, contents in project.engine.hand_runs(ledger.has_invocation):
        if not project.ran_on_this_target(results.target):
            continue
        source_dir = project_path(project, results.source_dir) if results.source_dir else project.source_dir
        rows += as_it_ran(project, results, source_dir, contents)
    return rows


def project_path(project: Project, configured: str) -> Path:
    """A folder as dbt's vars name it: relative paths are the project's."""
    path = Path(configured)
    return path if path.is_absolute() else project.project_dir / path


def run_results_rows(dbt: Dbt, ledger: Ledger) -> list[PartitionRun]:
    """On an engine without the hand-run table (Spark): a hand `dbt run --vars '{partition_date:
    ...}'` leaves target/run_results.json; its rows, if it ran on this target and is not recorded."""
    path = dbt.project.hand_run_results
    # Nothing to pick up: no readable file, another command (compile, test), a run on another target
    # or without partitions, or one whose tables are gone. One recorded before is skipped.
    try:
        results = read_run_results(path)
        return hand_run_rows(dbt, ledger, path, results) if results.command in ("run", "build") else []
    except ArtifactError:
        return []
