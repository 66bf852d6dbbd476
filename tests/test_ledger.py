"""The ledger file itself: a writer makes its schema once, and again when the file went away."""

from __future__ import annotations

from datetime import date, datetime

from runner.ledger import Ledger, PartitionRun


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
