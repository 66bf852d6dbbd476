"""One event stream for a load: what `runner backfill --json-lines` prints, one JSON object per line
as it happens, what `runner watch --json` prints for each partition it loads, and what the console
reads. Each event is a JSON object whose `event` field says which:

- `plan`: the partitions about to load, in order, each with its state, why it loads and the number
  of the dbt invocation (the chunk) that loads it; with the days that await their files;
- `chunk`: a dbt invocation starts: its partitions are running now (`rerun`: half of a chunk that
  failed, run again so that its good partitions still load);
- `load`: one partition's outcome (watch's `load` events are the same);
- `summary`: the counts, the exit code and the times, last."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, TypedDict

from runner.backfills import BackfillResult
from runner.loading import Outcome
from runner.planning import Planned
from runner.render_json import days_json, partition_outcomes, plan_entries
from runner.state_table import WAITING, PartitionStatus


class Days(TypedDict):
    count: int
    first: str | None
    last: str | None
    dates: list[str]


class PlannedPartition(TypedDict):
    partition_date: str
    state: str
    reason: str
    invocation: int


class PlanEvent(TypedDict):
    event: Literal["plan"]
    partitions: list[PlannedPartition]
    invocations: int  # how many dbt invocations the plan makes (before any failed chunk is split)
    total: int  # the partitions of the range, planned or not
    awaiting: Days  # the days whose files have not arrived (or are still being written): not run
    late: Days  # ... and those past their deadline


class ChunkEvent(TypedDict):
    event: Literal["chunk"]
    invocation: int  # 1, 2, ...: the dbt invocations of this load in the order they start
    partitions: list[str]
    rerun: bool  # these partitions were part of an invocation that failed


class LoadEvent(TypedDict):
    event: Literal["load"]
    partition_date: str
    outcome: Literal["loaded", "failed"]
    rows: int | None
    invocation_id: str
    attempts: int
    message: str | None
    seconds: float  # the invocation's


class SummaryEvent(TypedDict):
    event: Literal["summary"]
    loaded: int
    failed: int
    not_run: int  # interrupted, or stopped by --fail-fast
    interrupted: bool
    exit_code: int
    seconds: float  # the loads
    wall_seconds: float | None  # the whole command, dbt's start-up and the planning included


Event = PlanEvent | ChunkEvent | LoadEvent | SummaryEvent


def json_line(event: Event | dict) -> str:
    """An event as its line: one JSON object, no newline inside."""
    return json.dumps(event)


def plan_event(planned: list[Planned], chunks: list[list[date]], total: int, waiting: list[PartitionStatus]) -> PlanEvent:
    partitions = plan_entries(planned, chunks)
    waits = {state: days_json([status.partition_date for status in waiting if status.state == state]) for state in WAITING}
    return {"event": "plan", "partitions": partitions, "invocations": len({item["invocation"] for item in partitions}),
            "total": total, "awaiting": waits["awaiting"], "late": waits["late"]}


@dataclass
class Chunks:
    """Numbers the dbt invocations of a load as they start, and knows a failed chunk's halves."""

    started: int = 0
    seen: set[date] = field(default_factory=set)

    def event(self, dates: list[date]) -> ChunkEvent:
        self.started += 1
        rerun = not self.seen.isdisjoint(dates)
        self.seen.update(dates)
        return {"event": "chunk", "invocation": self.started, "partitions": [day.isoformat() for day in dates],
                "rerun": rerun}


def load_events(outcome: Outcome) -> list[LoadEvent]:
    """One `load` event per partition of an invocation (backfill --json-lines, watch --json)."""
    return [{"event": "load", **entry, "seconds": round(outcome.seconds, 3)} for entry in partition_outcomes(outcome)]


def summary_event(result: BackfillResult) -> SummaryEvent:
    """The end of a load (a result of no dates: nothing was planned, exit 0)."""
    return {"event": "summary", "loaded": result.loaded, "failed": len(result.failed), "not_run": result.not_run,
            "interrupted": result.interrupted, "exit_code": result.exit_code, "seconds": round(result.seconds, 3),
            "wall_seconds": round(result.wall_seconds, 3) if result.wall_seconds is not None else None}
