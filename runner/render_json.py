"""Rendering for programs: the JSON of status, history and a backfill, and the objects the event
stream shares with them (runner/render.py renders for people)."""

from __future__ import annotations

import json
from datetime import date

from runner.ledger import PartitionRun
from runner.loading import Outcome
from runner.planning import Planned
from runner.state_table import WAITING
from runner.states import PartitionStatus


def status_json(statuses: list[PartitionStatus]) -> str:
    return json.dumps([status.as_dict() for status in statuses], indent=2)


def history_json(runs: list[PartitionRun]) -> str:
    invocations: dict[str, dict] = {}
    for run in sorted(runs, key=lambda r: r.recorded_at, reverse=True):
        entry = invocations.setdefault(run.invocation_id, {"invocation_id": run.invocation_id, "nodes": []})
        entry["nodes"].append({
            "unique_id": run.unique_id, "resource_type": run.resource_type, "status": run.status,
            "message": run.message, "failures": run.failures, "rows": run.rows_loaded, "execution_time": run.execution_time,
            "completed_at": run.completed_at.isoformat() + "Z" if run.completed_at else None,
        })
    return json.dumps(list(invocations.values()), indent=2)


def days_json(days: list[date]) -> dict:
    return {"count": len(days), "first": days[0].isoformat() if days else None,
            "last": days[-1].isoformat() if days else None, "dates": [day.isoformat() for day in days]}


def waiting_json(waiting: list[PartitionStatus]) -> dict:
    """The awaiting and the late days, for programs: `late.count` is what an operator alerts on."""
    return {state: days_json([status.partition_date for status in waiting if status.state == state]) for state in WAITING}


def partition_outcomes(outcome: Outcome) -> list[dict]:
    """One object per partition of an invocation, for programs (backfill --json, watch --json)."""
    return [{"partition_date": day.isoformat(), "outcome": "loaded" if outcome.ok else "failed",
             "rows": outcome.rows.get(day), "invocation_id": outcome.invocation_id, "attempts": outcome.attempts,
             "message": outcome.message} for day in outcome.dates]


def backfill_json(outcomes: list[Outcome], dates: list[date], interrupted: bool, seconds: float,
                  waiting: list[PartitionStatus] | None = None, wall_seconds: float | None = None) -> str:
    """The whole backfill for programs: a summary and one object per partition."""
    partitions = [entry for outcome in outcomes for entry in partition_outcomes(outcome)]
    done = {p["partition_date"] for p in partitions}
    partitions += [{"partition_date": day.isoformat(), "outcome": "not run", "rows": None, "invocation_id": None,
                    "attempts": 0, "message": "interrupted before it ran" if interrupted else "stopped by --fail-fast"}
                   for day in dates if day.isoformat() not in done]
    counts = {kind: sum(1 for p in partitions if p["outcome"] == kind) for kind in ("loaded", "failed", "not run")}
    summary = {**counts, **waiting_json(waiting or []), "interrupted": interrupted, "seconds": round(seconds, 3),
               "wall_seconds": round(wall_seconds, 3) if wall_seconds is not None else None}
    return json.dumps({"summary": summary,
                       "partitions": sorted(partitions, key=lambda p: p["partition_date"])}, indent=2)


def plan_entries(planned: list[Planned], chunks: list[list[date]]) -> list[dict]:
    """Each planned partition with the number of the dbt invocation that would load it (--dry-run --json)."""
    number = {day: n for n, chunk in enumerate(chunks, 1) for day in chunk}
    return [{**item.as_dict(), "invocation": number[item.partition_date]} for item in planned]
