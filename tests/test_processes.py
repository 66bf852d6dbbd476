"""Real runner processes: Ctrl-C and SIGTERM, kill -9, and a warehouse locked by another process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

RUNNER = str(Path(sys.executable).with_name("runner"))
DAYS = ["2018-01-01", "2018-01-02", "2018-01-03", "2018-01-04", "2018-01-05"]


# Ctrl-C, SIGTERM and kill -9 with the partition in flight pinned: tests/test_interrupts.py.


def test_a_locked_warehouse_is_retried_then_named_with_its_holder(project):
    assert project.runner("run", DAYS[0]).exit_code == 0
    before = project.rows(DAYS[0])
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); sys.stdin.read()",
         str(project.warehouse)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline() == "ready\n"
        result = project.runner("run", DAYS[1], "--retries", "1", "--json")
    finally:
        holder.communicate("")
    assert result.exit_code == 1
    message = result.output if result.output.startswith("Error") else json.loads(result.output)["partitions"][0]["message"]
    assert "lock" in message and f"PID {holder.pid}" in message
    assert "Traceback" not in result.output
    assert project.rows(DAYS[0]) == before
    assert project.runner("run", DAYS[1]).exit_code == 0


def opened_read_write(path, sql: str) -> subprocess.CompletedProcess:
    """Another process opens a DuckDB file read-write (it cannot while any process holds the file)
    and prints what the query finds."""
    return subprocess.run([sys.executable, "-c", "import duckdb, sys; print(duckdb.connect(sys.argv[1]).execute(sys.argv[2]).fetchall())",
                           str(path), sql], capture_output=True, text=True, timeout=60)


def test_the_runner_lets_go_of_the_warehouse_and_the_ledger_when_it_ends(project):
    """After a command, another process can open the warehouse and the ledger read-write, and finds
    the partition's rows and the run's records there."""
    assert project.runner("run", DAYS[0]).exit_code == 0

    warehouse = opened_read_write(project.warehouse, "select count(*) from raw_partition_data")
    ledger = opened_read_write(project.ledger, "select count(distinct invocation_id), min(partition_date)::varchar from partition_runs")

    assert (warehouse.returncode, warehouse.stdout) == (0, "[(20,)]\n"), warehouse.stderr
    assert (ledger.returncode, ledger.stdout) == (0, "[(1, '2018-01-01')]\n"), ledger.stderr
