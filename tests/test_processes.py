"""Real runner processes: Ctrl-C and SIGTERM, kill -9, and a warehouse locked by another process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ctrl_c_reaches_the_child

RUNNER = str(Path(sys.executable).with_name("runner"))
DAYS = ["2018-01-01", "2018-01-02", "2018-01-03", "2018-01-04", "2018-01-05"]


def start_backfill(project) -> subprocess.Popen:
    return subprocess.Popen(
        [RUNNER, "--project-dir", str(project.root), "backfill", "--start", DAYS[0], "--end", DAYS[-1], "--chunk-size", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=project.root, preexec_fn=ctrl_c_reaches_the_child,
    )


def assert_status_is_true(project) -> dict[str, dict]:
    """No partition shown as materialized that is not: its rows are all there; a missing one has none."""
    statuses = project.status("--start", DAYS[0], "--end", DAYS[-1])
    for day, status in statuses.items():
        rows = len(project.rows(day))
        if status["state"] == "materialized":
            assert rows == status["rows"] == 20, (day, status)
        elif status["state"] == "missing":
            assert rows == 0, (day, status)
        else:
            assert status["state"] == "failed" and rows in (0, 20), (day, status)  # all or nothing
    return statuses


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_backfill_is_consistent_and_the_rerun_completes_it(project, stop):
    process = start_backfill(project)
    first = process.stdout.readline()  # the first partition is done: interrupt the rest
    assert first.startswith("2018-01-01  loaded")
    process.send_signal(stop)
    out, err = process.communicate(timeout=600)

    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert (first + out).splitlines()[-1].startswith("Interrupted: ")
    statuses = assert_status_is_true(project)
    assert statuses["2018-01-01"]["state"] == "materialized"
    assert any(s["state"] != "materialized" for s in statuses.values())
    interrupted = [s for s in statuses.values() if s["state"] == "failed"]
    assert all("interrupted" in s["message"] for s in interrupted)

    rerun = project.runner("backfill", "--start", DAYS[0], "--end", DAYS[-1])
    assert rerun.exit_code == 0, rerun.output
    assert {s["state"] for s in assert_status_is_true(project).values()} == {"materialized"}


def test_kill_9_loses_nothing_committed_and_status_stays_true(project):
    process = start_backfill(project)
    assert process.stdout.readline().startswith("2018-01-01  loaded")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)

    statuses = assert_status_is_true(project)
    assert statuses["2018-01-01"]["state"] == "materialized"
    in_flight = [s for s in statuses.values() if s["state"] == "failed"]
    assert all(s["message"].startswith("interrupted: the runner stopped while loading") for s in in_flight)

    assert project.runner("backfill", "--start", DAYS[0], "--end", DAYS[-1]).exit_code == 0
    assert {s["state"] for s in assert_status_is_true(project).values()} == {"materialized"}


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


def test_the_runner_lets_go_of_the_warehouse_when_it_ends(project):
    assert project.runner("run", DAYS[0]).exit_code == 0
    other = subprocess.run(
        [sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('select 1')", str(project.warehouse)],
        capture_output=True, text=True,
    )
    assert other.returncode == 0, other.stderr
    assert os.path.exists(project.ledger)
