"""One dbt invocation as the runner keeps it: its own artifacts folder (run_results.json, dbt.log),
or why dbt stopped before writing its results."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runner.artifacts import ArtifactError, RunResults, read_run_results


@dataclass(frozen=True)
class Invocation:
    """One dbt invocation: its own artifacts folder, and the error if dbt stopped before writing results."""

    target_path: Path
    error: str | None
    exception: BaseException | None = None

    @property
    def run_results(self) -> Path:
        return self.target_path / "run_results.json"

    @property
    def log_file(self) -> Path:
        return self.target_path / "dbt.log"

    def results(self) -> RunResults:
        """This invocation's own run_results.json, read; ArtifactError when dbt stopped before it."""
        if self.error:
            raise ArtifactError(self.error)
        return read_run_results(self.run_results)
