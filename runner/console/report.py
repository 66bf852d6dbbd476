"""The partition status page: one self-contained HTML file (inline CSS and JS, no fetches), drawn
with the console's templates: the calendar of partition states, each partition's last run, the
rows per day and the list of failures."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from runner.console import pages, views
from runner.errors import ProjectError
from runner.planning import Heatmap, collect
from runner.project import Project


class ReportError(ProjectError):
    """The status page could not be written."""


def write(project: Project, dates: list[date], out: Path | None = None) -> tuple[Path, list[Heatmap]]:
    """Collect and render the page for these dates; write it (default: target/partition_status.html)."""
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
