"""The state machine as a table: each partition's state and message from its ledger rows and the
files, code, seeds and warehouse as they are now; and each of its rules, in order, on an input that it
is the first to match. Pure logic: no dbt, no warehouse, no files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from runner.artifacts import node_name
from runner.content import Content
from runner.fingerprints import Unreadable
from runner.holdings import Holdings
from runner.ledger import PartitionRun
from runner.render import took
from runner.state_table import Staleness
from runner.states import CHANGED_AFTER_THE_RUN, FORGOTTEN, RULES, RUNNING, STILL_ARRIVING, Partition, partition_statuses, this_host

DAY = date(2018, 1, 2)
LOADED = datetime(2018, 1, 3, 6, 0)
EARLIER, LATER = LOADED - timedelta(hours=1), LOADED + timedelta(hours=1)
NODES = {
    "stg": "model.daily_loads.stg_daily_files__quotes",
    "raw": "model.daily_loads.raw_partition_data",
    "summary": "model.daily_loads.daily_summary",
    "test": "test.daily_loads.not_null_raw_partition_data_close_price.1a2b3c",
}
WARN_CHECK = "test.daily_loads.stg_quotes_dated_near_the_file.4d5e6f"
ROWS = {"stg_daily_files__quotes": 20, "raw_partition_data": 20, "daily_summary": 1}
CODE = {"stg_daily_files__quotes": "c-stg", "raw_partition_data": "c-raw", "daily_summary": "c-summary"}
SEEDS = {"calendar": "s1"}
KEPT = ("raw_partition_data", "daily_summary")  # the incremental models: checked against the ledger
HELD = Holdings({("raw_partition_data", DAY): 20, ("daily_summary", DAY): 1}, models=KEPT)
DEAD_PID = 2**22 + 1  # above Linux's PID_MAX_LIMIT: no process has it
LIVE = f"loading in runner PID {os.getpid()}"  # this test's own process: alive
ELSEWHERE = "other-host"
INTERRUPTED = "interrupted: the runner stopped while loading it (killed?); run it again"
UNREADABLE = Unreadable(f"cannot read /data/{DAY}.csv: Permission denied")


def row(unique_id: str, status: str = "success", invocation: str = "inv-1", at: datetime = LOADED, **changes) -> PartitionRun:
    """One ledger row of DAY as a good load records it (a model, a test, or the runner's `invocation`
    marker), with `changes` on top."""
    kind, name = unique_id.split(".")[0], node_name(unique_id)
    model = kind == "model"
    defaults = dict(
        partition_date=DAY, invocation_id=invocation, unique_id=unique_id, resource_type=kind, status=status, message=None,
        failures=0 if kind == "test" else None, execution_time=1.0, started_at=at - timedelta(seconds=5), completed_at=at,
        rows_loaded=ROWS[name] if model and status == "success" else None, source_file=f"/data/{DAY}.csv",
        source_fingerprint=None if kind == "invocation" else "f1", code_fingerprint=CODE[name] if model else None,
        recorded_at=at, seeds_fingerprint=json.dumps(SEEDS) if model else None,
    )
    return PartitionRun(**{**defaults, **changes})


def load(invocation: str = "inv-1", at: datetime = LOADED, every: dict | None = None, **nodes: dict) -> list[PartitionRun]:
    """A build of DAY (three models and a test) that went well, except as `nodes` (by key of NODES) say."""
    return [row(uid, invocation=invocation, at=at, **{**(every or {}), **nodes.get(key, {})}) for key, uid in NODES.items()]


def marker(status: str, message: str, at: datetime = LATER, **changes) -> PartitionRun:
    """The runner's own row: a marker written before the ledger had runner_pid and runner_host
    (its message alone names the PID), unless `changes` give them."""
    return row("invocation", status, invocation="runner-2", at=at, message=message, **changes)


def flight(pid: int, host: str | None = None, at: datetime = LATER) -> PartitionRun:
    """The in-flight marker as the runner writes it: its PID and host in their columns."""
    return marker(RUNNING, f"loading in runner PID {pid}", at, runner_pid=pid, runner_host=host or this_host())


def error(message: str) -> dict:
    return {"status": "error", "message": message}


SKIPPED = {"status": "skipped"}
# What the partition is judged on now, unless a case says otherwise.
NOW = dict(fingerprint="f1", code=CODE, holdings=HELD, seeds=SEEDS, model=None, late_before=None)


def case(name: str, runs: list[PartitionRun], expected: tuple[str, str], **now):
    return pytest.param(runs, {**NOW, **now}, expected, id=name)


CASES = [
    # Never loaded
    case("awaiting: no runs, no file", [], ("awaiting", "its file has not arrived"), fingerprint=None),
    case("late: no runs, no file past the deadline", [], ("late", "its file has not arrived (past its deadline)"),
         fingerprint=None, late_before=DAY + timedelta(days=1)),
    case("awaiting: the deadline is the day after", [], ("awaiting", "its file has not arrived"), fingerprint=None,
         late_before=DAY),
    case("awaiting: a file still being written", [], ("awaiting", "its file is still being written"),
         fingerprint=STILL_ARRIVING),
    # A run without its file is no failure of the partition: the file is what is missing
    case("awaiting: the last run failed for want of its file", load(stg=error("No files found")),
         ("awaiting", "its file has not arrived; its last run: stg_daily_files__quotes: No files found"), fingerprint=None),
    case("late: the last run failed for want of its file",
         load(at=EARLIER) + [marker("error", "no such file")],
         ("late", "its file has not arrived (past its deadline); its last run: invocation: no such file"), fingerprint=None,
         late_before=DAY + timedelta(days=1)),
    case("running without its file is running", load(at=EARLIER) + [flight(os.getpid())], ("running", f"loading now ({LIVE})"),
         fingerprint=None),
    case("missing: no runs, a file", [], ("missing", "never loaded")),
    case("missing: no runs, a file that cannot be read", [], ("missing", f"never loaded; {UNREADABLE}"), fingerprint=UNREADABLE),
    case("another day's runs do not count", [row(NODES["raw"], partition_date=DAY + timedelta(days=1))], ("missing", "never loaded")),
    # Materialized, with or without warnings
    case("materialized: all as loaded", load(), ("materialized", "OK")),
    case("materialized: warehouse not checked, the ledger is trusted", load(),
         ("materialized", "OK"), holdings=Holdings(unchecked="the warehouse could not be checked: a load holds it")),
    case("materialized: code not compiled now is trusted", load(), ("materialized", "OK"), code={}),
    case("warnings: one check with rows", load() + [row(WARN_CHECK, "warn", failures=12, message="12 rows dated far from the file")],
         ("materialized", "OK, 1 warning: stg_quotes_dated_near_the_file (12 rows)")),
    case("warnings: two, in node order, one row and unknown rows",
         load() + [row(WARN_CHECK, "warn", failures=None), row("test.daily_loads.accepted_range_volume.9", "warn", failures=1)],
         ("materialized", "OK, 2 warnings: accepted_range_volume (1 row), stg_quotes_dated_near_the_file")),
    # Failed
    case("failed: a model's error, named by its node", load(raw=error("Binder Error: column x not found"), summary=SKIPPED),
         ("failed", "raw_partition_data: Binder Error: column x not found")),
    case("failed: a check's message that names it is kept",
         load(test={"status": "fail", "failures": 2, "message": "not_null_raw_partition_data_close_price failed: 2 rows"}),
         ("failed", "not_null_raw_partition_data_close_price failed: 2 rows")),
    case("failed: the error before the skips it caused",
         load(stg=error("unparseable number"), raw=SKIPPED, summary=SKIPPED, test=SKIPPED),
         ("failed", "stg_daily_files__quotes: unparseable number")),
    case("failed: only skips, without a message", load(summary=SKIPPED), ("failed", "daily_summary: skipped")),
    case("failed: a failure outranks a changed file", load(raw=error("boom")), ("failed", "raw_partition_data: boom"), fingerprint="f2"),
    case("failed: dbt wrote no results (a lock)", load(at=EARLIER) + [marker("error", "Could not set lock on file")],
         ("failed", "invocation: Could not set lock on file")),
    case("failed: interrupted by a signal", load(at=EARLIER) + [marker("interrupted", "interrupted by Ctrl-C or SIGTERM")],
         ("failed", "invocation: interrupted by Ctrl-C or SIGTERM")),
    # Running, or a dead runner's marker: its PID and host
    case("running: the marker's runner lives", load(at=EARLIER) + [flight(os.getpid())], ("running", f"loading now ({LIVE})")),
    case("dead runner: its marker is an interruption", [flight(DEAD_PID)], ("failed", INTERRUPTED)),
    case("running: a runner on another host, its PID not checked", [flight(DEAD_PID, ELSEWHERE)],
         ("running", f"loading on host {ELSEWHERE} (PID {DEAD_PID}); whether that runner still lives cannot be checked from this host")),
    case("a load after a dead runner's marker counts", [flight(DEAD_PID, at=EARLIER)] + load(), ("materialized", "OK")),
    # ... or, in a ledger written by an older runner, its message
    case("older runner: its marker's runner lives", load(at=EARLIER) + [marker(RUNNING, LIVE)], ("running", f"loading now ({LIVE})")),
    case("older runner: a dead runner's marker", [marker(RUNNING, f"loading in runner PID {DEAD_PID}")], ("failed", INTERRUPTED)),
    case("older runner: a marker naming no PID", [marker(RUNNING, "loading")], ("failed", INTERRUPTED)),
    # Stale: the file
    case("stale: file changed", load(), ("stale", "source file changed since it was loaded"), fingerprint="f2"),
    case("stale: file cannot be read now", load(), ("stale", UNREADABLE), fingerprint=UNREADABLE),
    case("stale: file gone", load(), ("stale", "source file is gone since it was loaded (its rows are kept)"), fingerprint=None),
    case("stale: file being written again", load(), ("stale", "source file is being written again since it was loaded"),
         fingerprint=STILL_ARRIVING),
    case("stale: file changed after the run began", load(every={"source_fingerprint": CHANGED_AFTER_THE_RUN}),
         ("stale", "source file changed after the run that loaded it started")),
    # Stale: the code, the seeds
    case("stale: code changed", load(), ("stale", "code of raw_partition_data changed since it was loaded"),
         code={**CODE, "raw_partition_data": "c-raw-2"}),
    case("stale: a seed changed", load(), ("stale", "seed calendar changed since it was loaded"), seeds={"calendar": "s2"}),
    case("stale: a seed added", load(), ("stale", "seed holidays changed since it was loaded"), seeds={**SEEDS, "holidays": "h1"}),
    # Stale: the warehouse
    case("stale: warehouse rows differ", load(), ("stale", "warehouse has 15 rows of raw_partition_data, 20 were loaded"),
         holdings=Holdings({("raw_partition_data", DAY): 15, ("daily_summary", DAY): 1}, models=KEPT)),
    case("stale: a table dropped", load(), ("stale", "warehouse has 0 rows of raw_partition_data, 20 were loaded"),
         holdings=Holdings({("daily_summary", DAY): 1}, models=KEPT)),
    case("stale: warehouse gone", load(), ("stale", "warehouse file is gone (/w.duckdb)"),
         holdings=Holdings(gone="warehouse file is gone (/w.duckdb)")),
    case("stale: the warehouse is named before the file", load(), ("stale", "warehouse file is gone (/w.duckdb)"),
         holdings=Holdings(gone="warehouse file is gone (/w.duckdb)"), fingerprint="f2"),
    # An older run recorded later: the last to run counts, not the last recorded
    case("older run recorded later does not hide a change",
         load() + load("inv-0", at=EARLIER, every={"recorded_at": LATER, "source_fingerprint": "f2"}),
         ("stale", "source file changed since it was loaded"), fingerprint="f2"),
    case("older failed run recorded later does not fail it",
         load() + load("inv-0", at=EARLIER, every={"recorded_at": LATER}, raw=error("boom")), ("materialized", "OK")),
    # --model: that model's own node, and the runner's markers
    case("model: another node's failed check does not count", load(test={"status": "fail", "message": "2 rows"}),
         ("materialized", "OK"), model="daily_summary"),
    case("model: its own error", load(summary=error("Division by zero")), ("failed", "daily_summary: Division by zero"),
         model="daily_summary"),
    case("model: another model's error does not count", load(summary=error("Division by zero")), ("materialized", "OK"),
         model="raw_partition_data"),
    case("model: another model's code change does not count", load(), ("materialized", "OK"),
         code={**CODE, "raw_partition_data": "c-raw-2"}, model="daily_summary"),
    case("model: checks' warnings are not its own", load() + [row(WARN_CHECK, "warn", failures=12)], ("materialized", "OK"),
         model="raw_partition_data"),
    case("model: a marker covers every model", load(at=EARLIER) + [flight(os.getpid())], ("running", f"loading now ({LIVE})"),
         model="daily_summary"),
    case("model: never built by that model", [row(NODES["raw"])], ("missing", "never loaded"), model="daily_summary"),
]


def judge(runs: list[PartitionRun], now: dict, chunk_sizes: dict[str, int] | None = None):
    return partition_statuses([DAY], runs, {DAY: now["fingerprint"]}, "raw_partition_data", now["model"], now["code"],
                              now["holdings"], chunk_sizes, now["seeds"], now["late_before"])[0]


@pytest.mark.parametrize(("runs", "now", "expected"), CASES)
def test_state_and_message(runs, now, expected):
    """Each partition gets exactly one state and a message that says why, from its last run and what is there now."""
    status = judge(runs, now)
    assert (status.state, status.message) == expected


@pytest.mark.parametrize(("runs", "holdings", "chunk_sizes", "expected"), [
    pytest.param(load(), HELD, {"inv-1": 4}, (20, 1.0, 4.0, 4), id="a chunk's time shared among its partitions"),
    pytest.param(load(), HELD, None, (20, 4.0, 4.0, 1), id="an invocation of one partition"),
    pytest.param(load(raw=error("boom")), Holdings({("raw_partition_data", DAY): 18}, models=KEPT), None, (18, 4.0, 4.0, 1),
                 id="failed: the rows the warehouse still holds"),
    pytest.param(load(raw=error("boom")), Holdings(unchecked="not checked"), None, (None, 4.0, 4.0, 1),
                 id="failed, warehouse not checked: rows unknown"),
])
def test_rows_and_time(runs, holdings, chunk_sizes, expected):
    """Rows are the primary model's (the warehouse's when the run failed); a chunk's time is shared out."""
    status = judge(runs, {**NOW, "holdings": holdings}, chunk_sizes)
    assert (status.rows, status.duration, status.chunk_seconds, status.chunk_partitions) == expected
    assert (status.invocation_id, status.last_run_at) == ("inv-1", LOADED)


def test_the_table_shows_the_time_the_json_carries():
    """One rounding: a share of 0.08496s is 0.085 in the JSON, and so 0.09s in the table, never 0.08s."""
    status = judge(load(every={"execution_time": 0.06372}), NOW, {"inv-1": 3})
    shown = status.as_dict()
    assert (shown["duration_seconds"], shown["chunk_seconds"]) == (0.085, 0.255)
    assert took(status) == f"{shown['duration_seconds']:.2f}s ({shown['chunk_seconds']:.1f}s for a chunk of 3)"
    assert took(status) == "0.09s (0.3s for a chunk of 3)"


CONTENT_LOADED = {"content_fingerprint": "duckdb-1:100"}
CONTENT_NOW = Holdings(HELD.rows, models=KEPT, hash_used="duckdb-1",  # as many rows, another sum
                       contents={(model, DAY): Content(rows, "duckdb-1:999") for (model, _), rows in HELD.rows.items()})
FORGET = marker(FORGOTTEN, "forgotten (runner forget): its rows were removed; it awaits its file")


def rule(name: str, runs: list[PartitionRun], state: str, reasons: tuple[Staleness, ...] = (), **now):
    return pytest.param(name, runs, {**NOW, **now}, (state, [str(reason) for reason in reasons]), id=f"{name} ({state})")


# Each rule of states.RULES, in their order, on a least input that it matches and no rule before it does.
RULE_CASES = [
    rule("awaiting: never loaded, no file", [], "awaiting", fingerprint=None),
    rule("missing: never loaded", [], "missing"),
    rule("awaiting: forgotten, no file", load(at=EARLIER) + [FORGET], "awaiting", fingerprint=None),
    rule("missing: forgotten, its file back", load(at=EARLIER) + [FORGET], "missing"),
    rule("running: its runner may be loading it", [flight(os.getpid())], "running"),
    rule("failed: its runner died loading it", [flight(DEAD_PID)], "failed"),
    rule("awaiting: failed, no file", load(stg=error("No files found")), "awaiting", fingerprint=None),
    rule("failed: its last run", load(raw=error("boom")), "failed"),
    rule("stale: the warehouse differs", load(), "stale", (Staleness.WAREHOUSE_GONE,), holdings=Holdings(gone="warehouse file is gone")),
    rule("stale: the warehouse differs", load(), "stale", (Staleness.WAREHOUSE_ROWS_DIFFER,),
         holdings=Holdings({("raw_partition_data", DAY): 15, ("daily_summary", DAY): 1}, models=KEPT)),
    rule("stale: the warehouse differs", load(every=CONTENT_LOADED), "stale", (Staleness.WAREHOUSE_CONTENT_DIFFERS,), holdings=CONTENT_NOW),
    rule("stale: file unreadable", load(), "stale", (Staleness.FILE_UNREADABLE,), fingerprint=UNREADABLE),
    rule("stale: file gone", load(), "stale", (Staleness.FILE_GONE,), fingerprint=None),
    rule("stale: file being written", load(), "stale", (Staleness.FILE_BEING_WRITTEN,), fingerprint=STILL_ARRIVING),
    rule("stale: file changed during the run", load(every={"source_fingerprint": CHANGED_AFTER_THE_RUN}), "stale",
         (Staleness.FILE_CHANGED_DURING_RUN,)),
    rule("stale: file changed", load(), "stale", (Staleness.FILE_CHANGED,), fingerprint="f2"),
    rule("stale: code changed", load(), "stale", (Staleness.CODE_CHANGED,), code={**CODE, "daily_summary": "c-summary-2"}),
    rule("stale: seeds changed", load(), "stale", (Staleness.SEEDS_CHANGED,), seeds={"calendar": "s2"}),
    rule("materialized", load(), "materialized"),
]


@pytest.mark.parametrize(("name", "runs", "now", "expected"), RULE_CASES)
def test_each_rule_is_the_first_to_match_its_case(name, runs, now, expected):
    """The first rule that matches decides the state; the stale ones say why, as reasons of their own."""
    partition = Partition(DAY, runs, now["fingerprint"], "raw_partition_data", now["code"], now["holdings"], None,
                          now["seeds"], now["late_before"])
    assert next(rule_name for rule_name, test, _ in RULES if test(partition)) == name
    shown = judge(runs, now).as_dict()
    assert (shown["state"], shown["stale_reasons"]) == expected


def test_the_rule_cases_walk_every_rule_and_every_reason():
    assert list(dict.fromkeys(case.values[0] for case in RULE_CASES)) == [name for name, _, _ in RULES]
    assert {reason for case in RULE_CASES for reason in case.values[3][1]} == set(Staleness)


def test_every_status_key_stays_and_stale_reasons_is_added():
    """What `status --json` users read: the keys as before, and the reasons after them."""
    assert list(judge(load(), {**NOW, "fingerprint": "f2"}).as_dict()) == [
        "partition_date", "state", "rows", "invocation_id", "last_run_at", "duration_seconds", "message", "warnings",
        "chunk_seconds", "chunk_partitions", "stale_reasons"]
    assert all(judge(runs, now).as_dict()["stale_reasons"] == [] for runs, now, (state, _) in (c.values for c in CASES)
               if state != "stale")


def test_this_module_needs_no_dbt():
    """The state machine's tests import no dbt (a fresh interpreter: the suite's conftest does)."""
    code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import {Path(__file__).stem}; " \
           "print(sorted({name.split('.')[0] for name in sys.modules if name.startswith('dbt')}))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"
