"""The partition status page: one self-contained HTML file (inline CSS and JS, no fetches), with a
calendar heatmap per model, the last run of every partition and the list of failures."""

from __future__ import annotations

import html
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path

from runner.dbt import Dbt
from runner.project import PARTITIONED_MODELS, Project, ProjectError
from runner.status import STATES, PartitionStatus, node_name
from runner.tracking import gather

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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
    models = [*PARTITIONED_MODELS, *sorted(found - set(PARTITIONED_MODELS))]
    heatmaps = [Heatmap("All nodes", None, evidence.statuses(dates))]
    heatmaps += [Heatmap(model, model, evidence.statuses(dates, model)) for model in models]
    return heatmaps


def write(project: Project, dates: list[date], out: Path | None = None) -> tuple[Path, list[Heatmap]]:
    """Collect and render the page for these dates; write it (default: target/partition_status.html)."""
    heatmaps = collect(project, dates)
    path = Path(out) if out else project.project_dir / "target" / "partition_status.html"
    page = render(heatmaps, dates, project.project_dir.name, datetime.now(UTC))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
    except OSError as error:
        raise ReportError(f"cannot write {path}: {error.strerror or error}") from None
    return path, heatmaps


# Rendering ------------------------------------------------------------------------------------


def render(heatmaps: list[Heatmap], dates: list[date], project_name: str, generated_at: datetime) -> str:
    """The whole page. Cells are drawn here, so the page shows everything before any script runs;
    the script only fills the details panel from the embedded data."""
    overall = heatmaps[0]
    counts = overall.counts()
    template = resources.files("runner").joinpath("templates/status_page.html").read_text(encoding="utf-8")
    values = {
        "title": html.escape(f"Partition status: {project_name}"),
        "project": html.escape(project_name),
        "start": dates[0].isoformat(),
        "end": dates[-1].isoformat(),
        "partitions": str(len(dates)),
        "generated_at": generated_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "summary": _counts_html(counts),
        "legend": "".join(f'<span class="key"><i class="cell {state}"></i>{state}</span>' for state in STATES),
        "heatmaps": "\n".join(_heatmap_html(index, heatmap, dates) for index, heatmap in enumerate(heatmaps)),
        "failures": _failures_html(overall),
        # Each cell's last run, without the empty fields (a year of never-run days stays small).
        "data": _script_json([[_compact(status.as_dict()) for status in heatmap.statuses] for heatmap in heatmaps]),
        "models": _script_json([heatmap.title for heatmap in heatmaps]),
    }
    for name, value in values.items():
        template = template.replace("{{" + name + "}}", value)
    return template


def _compact(entry: dict) -> dict:
    return {name: value for name, value in entry.items() if value is not None}


def _script_json(value) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value, separators=(",", ":")).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _counts_html(counts: Counter) -> str:
    return " ".join(
        f'<span class="count {state}{"" if counts.get(state) else " zero"}" data-state="{state}">{counts.get(state, 0)} {state}</span>'
        for state in STATES
    )


def _years(dates: list[date]) -> list[tuple[int, list[tuple[int, date]]]]:
    """The dates grouped by year, each with its index in `dates`."""
    years: dict[int, list[tuple[int, date]]] = {}
    for index, day in enumerate(dates):
        years.setdefault(day.year, []).append((index, day))
    return list(years.items())


def _heatmap_html(number: int, heatmap: Heatmap, dates: list[date]) -> str:
    key = heatmap.model or "partition"
    subtitle = (
        "every node of the partition's last run, as <code>runner status</code> shows it" if heatmap.model is None
        else f"the model's own result, as <code>runner status --model {html.escape(heatmap.model)}</code> shows it"
    )
    strips = "\n".join(_year_html(year, days, heatmap.statuses) for year, days in _years(dates))
    return (
        f'<section class="heatmap" data-h="{number}" data-model="{html.escape(key)}">\n'
        f'<h2>{html.escape(heatmap.title)} <small>{subtitle}</small></h2>\n'
        f'<p class="counts">{_counts_html(heatmap.counts())}</p>\n'
        f'<div class="years">\n{strips}\n</div>\n</section>'
    )


def _year_html(year: int, days: list[tuple[int, date]], statuses: list[PartitionStatus]) -> str:
    """One year as a GitHub-style calendar: a column per week (Monday first), a row per weekday,
    only the weeks the range covers."""
    first_monday = days[0][1] - timedelta(days=days[0][1].weekday())
    weeks = (days[-1][1] - first_monday).days // 7 + 1
    cells, months = [], []
    for index, day in days:
        column = (day - first_monday).days // 7 + 1
        status = statuses[index]
        if day.day == 1 or index == days[0][0]:
            months.append(f'<span style="grid-column:{column}">{MONTHS[day.month - 1]}</span>')
        warned = " warned" if status.state == "materialized" and status.warnings else ""
        cells.append(
            f'<i class="cell {status.state}{warned}" style="grid-area:{day.weekday() + 1}/{column}" data-i="{index}"'
            f' data-date="{day.isoformat()}" data-state="{status.state}"></i>'
        )
    columns = f"grid-template-columns:repeat({weeks},var(--cell))"
    return (
        f'<div class="year"><span class="year-label">{year}</span>'
        f'<span class="weekdays"><span>Mon</span><span>Wed</span><span>Fri</span></span>'
        f'<div class="calendar"><div class="months" style="{columns}">{"".join(months)}</div>'
        f'<div class="grid" style="{columns}">{"".join(cells)}</div></div></div>'
    )


def _failures_html(overall: Heatmap) -> str:
    failed = [status for status in overall.statuses if status.state == "failed"]
    if not failed:
        return '<p class="none">No failed partitions.</p>'
    rows = "\n".join(
        f'<tr data-date="{status.partition_date.isoformat()}"><td><a href="#" data-i="{index}">{status.partition_date.isoformat()}</a></td>'
        f'<td>{_when(status)}</td><td class="num">{_none(status.rows)}</td><td class="num">{_seconds(status)}</td>'
        f'<td class="message">{html.escape(status.message or "")}</td><td><code>{html.escape(status.invocation_id or "-")}</code></td></tr>'
        for index, status in enumerate(overall.statuses)
        if status.state == "failed"
    )
    return (
        '<table><thead><tr><th>partition</th><th>last run (UTC)</th><th>rows</th><th>duration</th><th>message</th>'
        f"<th>invocation id</th></tr></thead>\n<tbody>\n{rows}\n</tbody></table>"
    )


def _when(status: PartitionStatus) -> str:
    return status.last_run_at.strftime("%Y-%m-%d %H:%M:%S") if status.last_run_at else "-"


def _seconds(status: PartitionStatus) -> str:
    return f"{status.duration:.1f}s" if status.duration is not None else "-"


def _none(value) -> str:
    return "-" if value is None else html.escape(str(value))
