"""Runs made by hand are recorded where they ran: a hand `dbt run/build` leaves its results in the
warehouse it wrote to (an on-run-end hook), and only that warehouse's ledger records them, each
once, with its own times and its own source folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb

DBT = str(Path(sys.executable).with_name("dbt"))


def hand(project, *args: str, warehouse: Path | None = None) -> subprocess.CompletedProcess:
    """`dbt ARGS` typed in the project's folder, against the project's warehouse or another one."""
    env = {**os.environ, "WAREHOUSE_PATH": str(warehouse or project.warehouse)}
    return subprocess.run([DBT, *args, "--profiles-dir", "."], cwd=project.root, capture_output=True, text=True, env=env)


def ledger_invocations(path: Path) -> set[str]:
    if not path.exists():
        return set()
    with duckdb.connect(str(path), read_only=True) as connection:
        return {row[0] for row in connection.execute("select distinct invocation_id from partition_runs").fetchall()}


def test_a_failed_hand_run_against_a_scratch_warehouse_stays_in_that_warehouses_ledger(project, tmp_path, monkeypatch):
    scratch_source = tmp_path / "scratch-source"
    scratch_source.mkdir()
    bad = project.file("2018-01-02").read_text().replace("\n2018-01-02,", "\n2018-01-02,x", 1)
    (scratch_source / "2018-01-02.csv").write_text(bad)
    scratch = tmp_path / "scratch" / "warehouse.duckdb"
    scratch.parent.mkdir()
    done = hand(project, "build", "--exclude-resource-type", "unit_test",
                "--vars", f"{{partition_date: 2018-01-02, source_dir: {scratch_source}}}", warehouse=scratch)
    assert done.returncode == 1, done.stdout

    # The project's own warehouse and ledger: untouched, whatever reads them.
    assert project.status("--start", "2018-01-02", "--end", "2018-01-02")["2018-01-02"]["state"] == "missing"
    result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03")
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("WAREHOUSE_PATH", str(tmp_path / "new" / "warehouse.duckdb"))  # a third, brand-new one
    assert project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03").exit_code == 0

    # The scratch warehouse: the failure, with its own file; recorded in its own ledger on request.
    monkeypatch.setenv("WAREHOUSE_PATH", str(scratch))
    entry = project.status("--start", "2018-01-02", "--end", "2018-01-02")["2018-01-02"]
    assert entry["state"] == "failed"
    assert "unparseable number" in entry["message"] and str(scratch_source / "2018-01-02.csv") in entry["message"]
    assert not scratch.with_suffix(".ledger.duckdb").exists()  # a look never writes
    recorded = project.runner("record")
    assert recorded.output.splitlines()[0] == f"recorded 1 hand run(s) kept in {scratch}", recorded.output
    with duckdb.connect(str(scratch.with_suffix(".ledger.duckdb")), read_only=True) as connection:
        files = connection.execute("select distinct source_file from partition_runs").fetchall()
    assert files == [(str(scratch_source / "2018-01-02.csv"),)]


def test_every_hand_run_is_shown_by_a_look_and_recorded_by_the_next_load_with_its_own_times(project):
    assert project.runner("run", "2018-01-01").exit_code == 0  # seeds loaded, as a user would have
    first = hand(project, "run", "--vars", "{partition_date: 2018-01-02}")
    second = hand(project, "build", "--exclude-resource-type", "unit_test", "--vars", "{partition_date: 2018-01-03}")
    assert first.returncode == 0 and second.returncode == 0, first.stdout + second.stdout
    ran_until = datetime.utcnow().replace(microsecond=0).isoformat() + "Z"  # the ledger keeps whole seconds

    entries, imported = project.status_in_a_new_process("--start", "2018-01-01", "--end", "2018-01-03")
    assert {day: entry["state"] for day, entry in entries.items()} == {
        "2018-01-01": "materialized", "2018-01-02": "materialized", "2018-01-03": "materialized"}
    assert entries["2018-01-02"]["rows"] == 20 and entries["2018-01-03"]["rows"] == 20
    assert entries["2018-01-02"]["last_run_at"] < entries["2018-01-03"]["last_run_at"] <= ran_until
    assert imported == []  # read without dbt
    assert len(ledger_invocations(project.ledger)) == 1  # a look never writes: the runner's own run only

    nightly = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03")
    assert nightly.exit_code == 0 and nightly.stdout.startswith("Nothing to do"), nightly.output
    assert len(ledger_invocations(project.ledger)) == 3  # recorded by the load's planning, each once
    assert project.status("--start", "2018-01-01", "--end", "2018-01-03") == project.status("--start", "2018-01-01", "--end", "2018-01-03")
    project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03")
    assert len(ledger_invocations(project.ledger)) == 3


def test_a_hand_run_with_another_source_folder_is_judged_against_the_projects_files(project, tmp_path):
    other = tmp_path / "other-source"
    shutil.copytree(project.source_dir, other)
    path = other / "2018-01-02.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")  # one row fewer than the project's file
    assert project.runner("run", "2018-01-01").exit_code == 0
    done = hand(project, "build", "--exclude-resource-type", "unit_test",
                "--vars", f"{{partition_date: 2018-01-02, source_dir: {other}}}")
    assert done.returncode == 0, done.stdout

    entry = project.status("--start", "2018-01-02", "--end", "2018-01-02")["2018-01-02"]
    assert (entry["state"], entry["message"], entry["rows"]) == ("stale", "source file changed since it was loaded", 19)
    result = project.runner("backfill", "--start", "2018-01-02", "--end", "2018-01-02")
    assert result.exit_code == 0 and result.stdout.startswith("2018-01-02  loaded  20 rows")


HOLD = """
import duckdb, sys
connection = duckdb.connect(sys.argv[1])  # a runner loading: it holds the warehouse
print("held", flush=True)
sys.stdin.readline()
"""


def test_a_hand_run_against_a_held_warehouse_says_who_holds_it_in_one_line(project):
    assert project.runner("run", "2018-01-01").exit_code == 0
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(project.warehouse)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        done = hand(project, "build", "--vars", "{partition_date: 2018-01-02}")
    finally:
        holder.communicate("done\n", timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stdout + done.stderr
    said = [line for line in done.stdout.splitlines() if "lock" in line.lower()]
    assert said == [f"    Conflicting lock on the warehouse {project.warehouse}: held by PID {holder.pid} "
                    "(a runner loading partitions?); try again once it is done"]
