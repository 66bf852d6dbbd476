"""Loading partitions: one dbt build per partition, its results written to the ledger at once."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from runner.artifacts import ArtifactError, read_run_results
from runner.dbt import Dbt
from runner.fingerprints import file_fingerprint
from runner.ledger import Ledger
from runner.recording import failed_invocation_runs, partition_runs
from runner.status import failure_message, node_name


@dataclass(frozen=True)
class Outcome:
    """What happened to the partitions of one dbt invocation."""

    dates: list[date]
    ok: bool
    invocation_id: str
    seconds: float
    message: str | None = None
    rows: dict[date, int] = field(default_factory=dict)
    log_file: Path | None = None


class Loader:
    def __init__(self, dbt: Dbt, ledger: Ledger, primary_model: str):
        self.dbt, self.ledger, self.primary_model = dbt, ledger, primary_model

    def load(self, dates: list[date]) -> Outcome:
        """Build these partitions in one invocation and record every node's result for each."""
        started = time.monotonic()
        project = self.dbt.project
        files = {day: project.source_file(day) for day in dates}
        fingerprints = {day: file_fingerprint(path) for path, day in zip(files.values(), dates)}
        invocation = self.dbt.build_partitions(dates)
        try:
            if invocation.error:
                raise ArtifactError(invocation.error)
            results = read_run_results(invocation.run_results)
        except ArtifactError as error:
            runner_id = f"runner-{uuid.uuid4()}"
            self.ledger.record(failed_invocation_runs(runner_id, dates, files, str(error)))
            return Outcome(dates, False, runner_id, time.monotonic() - started, str(error), log_file=invocation.log_file)
        built = sorted({node_name(node.unique_id) for node in results.nodes if node.resource_type == "model" and node.ok})
        rows = self.dbt.count_rows(built, dates) if built else {}
        runs = partition_runs(results, files, fingerprints, rows, str(project.source_dir))
        self.ledger.record(runs)
        return Outcome(
            dates, results.ok, results.invocation_id, time.monotonic() - started,
            None if results.ok else failure_message(runs),
            {day: rows[(self.primary_model, day)] for day in dates if (self.primary_model, day) in rows},
            invocation.log_file,
        )

    def record_hand_run(self, path: Path) -> int:
        """Record a `dbt run/build --vars '{partition_date: ...}'` made outside the runner.
        Returns how many partitions it covered; 0 when it was recorded before."""
        results = read_run_results(path)
        if not results.partition_dates:
            raise ArtifactError(f"{path}: the invocation names no partition_date in its --vars")
        if self.ledger.has_invocation(results.invocation_id):
            return 0
        project = self.dbt.project
        files = {day: project.source_file(day) for day in results.partition_dates}
        fingerprints = {day: file_fingerprint(path) for day, path in files.items()}
        built = sorted({node_name(n.unique_id) for n in results.nodes if n.resource_type == "model" and n.ok})
        rows = self.dbt.count_rows(built, results.partition_dates) if built else {}
        self.ledger.record(partition_runs(results, files, fingerprints, rows, str(project.source_dir)))
        return len(results.partition_dates)
