"""The ledger file itself: a writer makes its schema once, and again when the file went away; an
older ledger gains the columns added since; the in-flight marker names its runner's PID and host."""

from __future__ import annotations

import os
from datetime import date, datetime

import duckdb

from runner.ledger import COLUMNS, Ledger, PartitionRun
from runner.recording import LoadRecord, marker_runs
from runner.states import partition_statuses, this_host


def run(invocation: str) -> PartitionRun:
    return PartitionRun(date(2018, 1, 2), invocation, "model.daily_loads.raw_partition_data", "model", "success", None,
                        None, 0.1, None, None, 20, "/d/2018-01-02.csv", "f", "c", datetime(2026, 12, 2))


def test_a_ledger_deleted_between_two_writes_is_made_again(tmp_path):
    ledger = Ledger(tmp_path / "ledger.duckdb")
    ledger.record([run("first")])
    ledger.record([run("second")])
    assert [found.invocation_id for found in ledger.runs()] == ["first", "second"]

    (tmp_path / "ledger.duckdb").unlink()
    ledger.record([run("third")])

    assert [found.invocation_id for found in Ledger(tmp_path / "ledger.duckdb").runs()] == ["third"]


DAY = date(2018, 1, 2)
DEAD_PID = 2**22 + 1  # above Linux's PID_MAX_LIMIT: no process has it
# partition_runs as the first runners made it, before any column was added
OLD_SCHEMA = """
create table partition_runs (
    partition_date date not null, invocation_id varchar not null, unique_id varchar not null, resource_type varchar not null,
    status varchar not null, message varchar, failures integer, execution_time double, started_at timestamp,
    completed_at timestamp, rows_loaded bigint, source_file varchar, source_fingerprint varchar, code_fingerprint varchar,
    recorded_at timestamp not null, primary key (partition_date, invocation_id, unique_id)
);
"""


def state_of(ledger: Ledger) -> tuple[str, str]:
    status = partition_statuses([DAY], ledger.runs(), {DAY: "f"}, "raw_partition_data")[0]
    return status.state, status.message


def test_the_in_flight_marker_names_its_runner_and_status_asks_after_it(tmp_path):
    """The marker's PID and host, in their columns: this host's live runner is running, a dead one's
    load interrupted, and another host's runner is taken at its word, its host named."""
    ledger = Ledger(tmp_path / "ledger.duckdb")
    record = LoadRecord(ledger, [DAY], {DAY: tmp_path / "2018-01-02.csv"})
    [marker] = ledger.runs()
    assert (marker.status, marker.runner_pid, marker.runner_host) == ("running", os.getpid(), this_host())
    assert state_of(ledger) == ("running", f"loading now (loading in runner PID {os.getpid()})")

    for pid, host, expected in [
        (DEAD_PID, this_host(), ("failed", "interrupted: the runner stopped while loading it (killed?); run it again")),
        (DEAD_PID, "other-host", ("running", f"loading on host other-host (PID {DEAD_PID}); whether that runner still lives "
                                             "cannot be checked from this host")),
    ]:
        ledger.record(marker_runs(record.marker, [DAY], record.files, "running", f"loading in runner PID {pid}", runner=(pid, host)),
                      replacing=record.marker)
        assert state_of(ledger) == expected


def test_an_old_ledger_is_read_as_it_is_and_gains_the_columns_on_its_first_write(tmp_path):
    path = tmp_path / "ledger.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute(OLD_SCHEMA)
        connection.execute("insert into partition_runs values (?, 'old-marker', 'invocation', 'invocation', 'running', ?, null, 0,"
                           " null, ?, null, '/d/2018-01-02.csv', null, null, ?)",
                           [DAY, f"loading in runner PID {os.getpid()}", datetime(2026, 12, 3), datetime(2026, 12, 3)])
    ledger = Ledger(path)

    # Read as it is (a read never writes): its marker's PID is in its message only, and its runner lives.
    [old] = ledger.runs()
    assert (old.invocation_id, old.runner_pid, old.runner_host, old.seeds_fingerprint) == ("old-marker", None, None, None)
    assert state_of(ledger) == ("running", f"loading now (loading in runner PID {os.getpid()})")

    ledger.record([run("new")])

    with duckdb.connect(str(path), read_only=True) as connection:
        columns = [name for (name,) in connection.execute(
            "select column_name from information_schema.columns where table_name = 'partition_runs' order by ordinal_position").fetchall()]
    assert columns == COLUMNS  # every column added, in the order the schema has them
    assert sorted((found.invocation_id, found.message, found.runner_pid) for found in Ledger(path).runs()) == [
        ("new", None, None), ("old-marker", f"loading in runner PID {os.getpid()}", None)]
