"""Every backfill as a record in the ledger's `backfills` table, whoever started it: `runner backfill`
(`cli`, or `console` for the console's), a load of `runner watch` (`watch`) or `runner run D` (`run`).
Each holds who started it (user@host and PID), its range and selection, the partitions it was asked
to load, its status and counts, and its dbt invocations, whose runs are in partition_runs. Written
as it starts and as it ends (runner/backfills.py); read by `runner backfills` and the console."""

from __future__ import annotations

import getpass
import os
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from itertools import groupby

import duckdb

from runner.ledger import Ledger, PartitionRun
from runner.states import failure_message, invocation_outcome, is_alive, latest_invocation, this_host

STARTED_BY = ("cli", "console", "watch", "run")
# As recorded: running, then succeeded, failed or interrupted; a running one whose runner died on
# this host reads as crashed (as an in-flight partition reads as interrupted).
STATUSES = ("running", "succeeded", "failed", "interrupted", "crashed")
COLUMNS = ("backfill_id", "started_at", "finished_at", "started_by", "user_host", "runner_pid", "runner_host",
           "range_start", "range_end", "selection", "requested", "requested_dates", "chunks", "status", "loaded",
           "failed", "invocation_ids", "message")


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # as partition_runs records its times


@dataclass(frozen=True)
class Origin:
    """Who starts a backfill, and what was asked of it: the range and the states selected."""

    started_by: str
    start: date
    end: date
    selection: str


@dataclass(frozen=True)
class BackfillRecord:
    backfill_id: str
    started_at: datetime
    finished_at: datetime | None
    started_by: str
    user_host: str | None
    runner_pid: int | None
    runner_host: str | None
    range_start: date | None
    range_end: date | None
    selection: str | None
    requested: int
    requested_dates: list[date]
    chunks: int | None  # the dbt invocations planned (a failed chunk's halves come on top)
    status: str
    loaded: int | None
    failed: int | None
    invocation_ids: list[str]
    message: str | None

    @property
    def running(self) -> bool:
        return self.status == "running"

    def as_dict(self) -> dict:
        found = asdict(self)
        for name in ("started_at", "finished_at", "range_start", "range_end"):
            found[name] = found[name].isoformat() if found[name] else None
        found["requested_dates"] = [day.isoformat() for day in self.requested_dates]
        return found


def who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        user = str(os.getuid())
    return f"{user}@{this_host()}"


class Recording:
    """One backfill's record: written as running when it starts, its end written by finish()."""

    def __init__(self, ledger: Ledger, origin: Origin, dates: list[date], chunks: int):
        self.ledger, self.dates = ledger, dates
        self.backfill_id, self.started_at = str(uuid.uuid4()), now()
        with ledger.writing("record the backfill") as connection:
            connection.execute(
                f"insert into backfills ({', '.join(COLUMNS)}) values ({', '.join('?' * len(COLUMNS))})",
                [self.backfill_id, self.started_at, None, origin.started_by, who(), os.getpid(), this_host(), origin.start,
                 origin.end, origin.selection, len(dates), dates, chunks, "running", 0, 0, [], None])

    def finish(self, status: str, loaded: int, failed: int, invocation_ids: list[str], message: str | None = None) -> None:
        """Its end. Its invocations are those that recorded its partitions since it started (it
        held the warehouse meanwhile): a failed chunk before its halves, the marker of a partition
        a signal cut short, in the order they were recorded."""
        with self.ledger.writing("record the backfill") as connection:
            recorded = [found for (found,) in connection.execute(
                "select invocation_id from partition_runs where recorded_at >= ? and status != 'running'"
                " and partition_date in (select unnest(?::date[])) group by 1 order by min(recorded_at), 1",
                [self.started_at, self.dates]).fetchall()]
            ids = list(dict.fromkeys([*recorded, *invocation_ids]))
            connection.execute("update backfills set finished_at = ?, status = ?, loaded = ?, failed = ?, invocation_ids = ?,"
                               " message = ? where backfill_id = ?",
                               [now(), status, loaded, failed, ids, message, self.backfill_id])


def as_read(record: BackfillRecord) -> BackfillRecord:
    """A running record whose runner is dead on this host crashed (killed, or the machine stopped)."""
    if record.running and record.runner_pid is not None and record.runner_host in (None, this_host()) \
            and not is_alive(record.runner_pid):
        return replace(record, status="crashed")
    return record


def read(ledger: Ledger, backfill_id: str | None = None) -> list[BackfillRecord]:
    """The backfills recorded, newest first (or the one of this id); none in a ledger older than the
    table. A read: it writes nothing."""
    where, params = ("where backfill_id = ?", [backfill_id]) if backfill_id is not None else ("", [])
    with ledger.read_only() as connection:
        try:
            rows = connection.execute(f"select {', '.join(COLUMNS)} from backfills {where}"
                                      " order by started_at desc, backfill_id", params).fetchall()
        except duckdb.CatalogException:  # a ledger from before backfills were recorded
            return []
    return [as_read(BackfillRecord(*row[:11], row[11] or [], *row[12:16], row[16] or [], row[17])) for row in rows]


def runs_of(ledger: Ledger, record: BackfillRecord) -> list[PartitionRun]:
    """The partition runs of a backfill: those of its invocations; for one whose end was not written
    (running, crashed), its partitions' runs recorded since it started."""
    if not record.requested_dates:
        return []
    return ledger.runs(min(record.requested_dates), max(record.requested_dates),
                       "partition_date in (select unnest(?::date[])) and (invocation_id in (select unnest(?::varchar[]))"
                       " or (? and recorded_at >= ?))",
                       [record.requested_dates, record.invocation_ids, record.finished_at is None, record.started_at])


@dataclass(frozen=True)
class PartitionOutcome:
    partition_date: date
    outcome: str  # loaded, warnings, failed, interrupted, running, not run
    invocation_id: str | None
    rows: int | None
    message: str | None


@dataclass(frozen=True)
class InvocationOutcome:
    invocation_id: str
    outcome: str
    partitions: list[date]
    has_log: bool  # a dbt invocation (the runner's own markers have no log)


OUTCOMES = {"success": "loaded", "warnings": "loaded", "failed": "failed"}


def outcomes(record: BackfillRecord, runs: list[PartitionRun], primary_model: str) -> list[PartitionOutcome]:
    """Each requested partition with what the backfill did to it (`not run`: nothing recorded)."""
    by_day = {day: list(found) for day, found in groupby(sorted(runs, key=lambda run: run.partition_date),
                                                         key=lambda run: run.partition_date)}
    found = []
    for day in record.requested_dates:
        if day not in by_day:
            found.append(PartitionOutcome(day, "not run", None, None, None))
            continue
        latest = latest_invocation(by_day[day])
        outcome = invocation_outcome(latest)
        rows = next((run.rows_loaded for run in latest if run.unique_id.split(".")[-1] == primary_model), None)
        message = failure_message(latest) if outcome != "running" else None
        found.append(PartitionOutcome(day, OUTCOMES.get(outcome, outcome), latest[0].invocation_id, rows, message))
    return found


def invocations(runs: list[PartitionRun], has_log: Callable[[str], bool]) -> list[InvocationOutcome]:
    """The backfill's invocations in the order they ran, each with its partitions and outcome."""
    ordered = sorted(runs, key=lambda run: (run.recorded_at, run.invocation_id))
    found = []
    for invocation_id in dict.fromkeys(run.invocation_id for run in ordered):
        nodes = [run for run in ordered if run.invocation_id == invocation_id]
        outcome = invocation_outcome(nodes)
        found.append(InvocationOutcome(invocation_id, OUTCOMES.get(outcome, outcome),
                                       sorted({run.partition_date for run in nodes}), has_log(invocation_id)))
    return found


@dataclass(frozen=True)
class BackfillPage:
    record: BackfillRecord
    partitions: list[PartitionOutcome]
    invocations: list[InvocationOutcome]


def page(ledger: Ledger, backfill_id: str, primary_model: str, has_log: Callable[[str], bool]) -> BackfillPage | None:
    """One backfill with each of its partitions' outcome and its invocations (the console's page)."""
    found = read(ledger, backfill_id)
    if not found:
        return None
    runs = runs_of(ledger, found[0])
    return BackfillPage(found[0], outcomes(found[0], runs, primary_model), invocations(runs, has_log))
