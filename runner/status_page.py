"""The partition status page: one self-contained HTML file (inline CSS and JS, no fetches), drawn
by the console's templates (runner/console): the calendar of partition states, each partition's
last run, the rows per day and the list of failures."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from runner.artifacts import node_name
from runner.dbt import Dbt
from runner.planning import gather
from runner.project import Project, ProjectError
from runner.states import PartitionStatus


class ReportError(ProjectError):
    """The status page could not be written."""


@dataclass(frozen=True)
class Heatmap:
    """One calendar: the partitions' states for one model, or for the partition as a whole (model None)."""

    title: str
    model: str | None
    statuses: list[PartitionStatus]

    def counts(self) -> Counter:
        return Counter(status.state for status in self.statuses)


def collect(project: Project, dates: list[date]) -> list[Heatmap]:
    """The heatmaps: the partition as `runner status` shows it, then each partitioned model's own
    node as `runner status --model NAME` shows it. The ledger, files and code are read once."""
    evidence = gather(project, Dbt(project), dates)
    found = {node_name(run.unique_id) for run in evidence.runs if run.resource_type == "model"}
    partitioned = project.models.partitioned
    models = [*partitioned, *sorted(found - set(partitioned))]
    heatmaps = [Heatmap("All nodes", None, evidence.statuses(dates))]
    heatmaps += [Heatmap(model, model, evidence.statuses(dates, model)) for model in models]
    return heatmaps


def write(project: Project, dates: list[date], out: Path | None = None) -> tuple[Path, list[Heatmap]]:
    """Collect and render the page for these dates; write it (default: target/partition_status.html)."""
    from runner.console import pages, views  # they read collect(): imported here, not at the top

    heatmaps = collect(project, dates)
    path = Path(out) if out else project.project_dir / "target" / "partition_status.html"
    page = pages.overview(views.build(project, dates, heatmaps=heatmaps), static=True, generated_at=datetime.now(UTC))
    try:
        if not out:  # the project's target/ may not be there yet; a given path's folder must be
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
    except OSError as error:
        raise ReportError(f"cannot write {path}: {error.strerror or error}") from None
    return path, heatmaps
