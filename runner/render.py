"""Rendering for people (tables, lines) and for programs (JSON)."""

from __future__ import annotations

import json

from runner.loading import Outcome
from runner.status import PartitionStatus

STATUS_COLUMNS = ("partition_date", "state", "rows", "last_run_at", "invocation_id", "message")


def status_json(statuses: list[PartitionStatus]) -> str:
    return json.dumps([status.as_dict() for status in statuses], indent=2)


def status_table(statuses: list[PartitionStatus]) -> str:
    rows = [
        [
            str(value) if value is not None else "-"
            for value in (
                status.partition_date, status.state, status.rows,
                status.last_run_at.strftime("%Y-%m-%d %H:%M:%S") if status.last_run_at else None,
                status.invocation_id[:8] if status.invocation_id else None,
                status.message,
            )
        ]
        for status in statuses
    ]
    widths = [max(len(name), *(len(row[i]) for row in rows)) if rows else len(name) for i, name in enumerate(STATUS_COLUMNS)]
    lines = ["  ".join(name.ljust(width) for name, width in zip(STATUS_COLUMNS, widths)).rstrip()]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    counts = {state: sum(1 for status in statuses if status.state == state) for state in ("materialized", "failed", "stale", "missing")}
    lines.append(", ".join(f"{count} {state}" for state, count in counts.items()))
    return "\n".join(lines)


def outcome_lines(outcome: Outcome) -> list[str]:
    """One line per partition of an invocation."""
    lines = []
    for day in outcome.dates:
        if outcome.ok:
            rows = outcome.rows.get(day)
            lines.append(f"{day}  loaded  {rows if rows is not None else '?'} rows  ({outcome.seconds:.1f}s)")
        else:
            lines.append(f"{day}  failed  {outcome.message}")
    return lines
