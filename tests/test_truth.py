"""Status tells the truth: checked against the warehouse, the files and the clock; names checked up
front; faults end in one line."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from children import PAUSED_RUNNER

COUNT_ROWS = "runner.warehouse:measure"  # the wait point: the partition built, the warehouse held

DBT = str(Path(sys.executable).with_name("dbt"))
DAYS = ("2018-01-01", "2018-01-02", "2018-01-03")
RANGE = ("--start", DAYS[0], "--end", DAYS[-1])

# A runner that sends itself SIGTERM in the middle of its first write of a load's results (which
# replace the load's in-flight marker), with the ledger file open.
SIGTERM_IN_THE_LEDGER_WRITE = """
import contextlib, os, signal, sys
from runner import ledger
from runner.cli import main
record, connect, sent = ledger.Ledger.record, ledger.Ledger._connect, []
def results_write(self, runs, replacing=None):
    self.writing_results = replacing is not None
    return record(self, runs, replacing)
@contextlib.contextmanager
def _connect(self, read_only=False, attempts=20):
    with connect(self, read_only, attempts) as connection:
        if getattr(self, "writing_results", False) and not sent:
            sent.append(os.kill(os.getpid(), signal.SIGTERM))
        yield connection
ledger.Ledger.record, ledger.Ledger._connect = results_write, _connect
sys.argv = ["runner", *sys.argv[1:]]
main()
"""


def wait_for(predicate, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def backfilled(project):
    assert project.runner("backfill", *RANGE).exit_code == 0
    return {day: project.rows(day) for day in DAYS}


def states(project) -> dict[str, tuple[str, str]]:
    return {day: (entry["state"], entry["message"]) for day, entry in project.status(*RANGE).items()}


def test_a_deleted_warehouse_is_stale_and_the_default_backfill_rebuilds_it(project, backfilled):
    project.warehouse.unlink()
    assert {state for state, _ in states(project).values()} == {"stale"}
    assert states(project)[DAYS[0]][1] == f"warehouse file is gone ({project.warehouse})"

    result = project.runner("backfill", *RANGE)

    assert result.exit_code == 0, result.output
    assert {day: project.rows(day) for day in DAYS} == backfilled
    assert {state for state, _ in states(project).values()} == {"materialized"}


def test_a_warehouse_that_is_not_duckdb_is_stale_and_set_aside_by_the_backfill(project, backfilled):
    project.warehouse.write_text("not a database")
    assert states(project)[DAYS[1]] == ("stale", f"warehouse is not a DuckDB file ({project.warehouse})")

    result = project.runner("backfill", *RANGE)

    assert result.exit_code == 0, result.output
    kept = [path for path in project.warehouse.parent.iterdir() if ".unreadable-" in path.name]
    assert len(kept) == 1 and kept[0].read_text() == "not a database"  # nothing lost
    assert f"moved the unreadable warehouse aside: {kept[0]}" in result.output
    assert {day: project.rows(day) for day in DAYS} == backfilled


def test_an_older_copy_of_the_warehouse_is_stale_where_it_lacks_rows(project):
    assert project.runner("run", DAYS[0]).exit_code == 0
    old_copy = project.root / "old.duckdb"
    shutil.copy(project.warehouse, old_copy)
    assert project.runner("backfill", *RANGE).exit_code == 0
    shutil.copy(old_copy, project.warehouse)

    found = states(project)
    assert found[DAYS[0]][0] == "materialized"
    assert found[DAYS[1]] == found[DAYS[2]] == ("stale", "warehouse has 0 rows of daily_summary, 1 was loaded")
    assert project.runner("backfill", *RANGE).exit_code == 0
    assert [len(project.rows(day)) for day in DAYS] == [20, 20, 20]


def test_a_days_rows_deleted_by_hand_are_stale_and_reloaded(project, backfilled):
    with duckdb.connect(str(project.warehouse)) as warehouse:
        warehouse.execute("delete from raw_partition_data where partition_date = '2018-01-02' and volume > 30000000")
    left = len(project.rows(DAYS[1]))
    assert states(project)[DAYS[1]] == ("stale", f"warehouse has {left} rows of raw_partition_data, 20 were loaded")

    result = project.runner("backfill", *RANGE)

    assert result.exit_code == 0, result.output
    assert result.output.startswith("2018-01-02  loaded  20 rows")
    assert project.rows(DAYS[1]) == backfilled[DAYS[1]]


def test_a_hand_run_whose_file_changed_after_it_ran_is_stale(project):
    done = subprocess.run([DBT, "build", "--profiles-dir", ".", "--exclude-resource-type", "unit_test",
                           "--vars", "{partition_date: 2018-01-02}"], cwd=project.root, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
    path = project.file(DAYS[1])
    path.write_text(path.read_text().replace("2018-01-02,", "2018/01/02,", 1))  # the fix, after the run

    status = project.status("--start", DAYS[1], "--end", DAYS[1])[DAYS[1]]

    assert (status["state"], status["message"]) == ("stale", "source file changed after the run that loaded it started")
    assert status["rows"] == 20  # a hand run's rows are counted
    assert project.runner("backfill", "--start", DAYS[1], "--end", DAYS[1]).exit_code == 0
    assert project.status("--start", DAYS[1], "--end", DAYS[1])[DAYS[1]]["state"] == "materialized"


def test_a_failed_partition_shows_the_rows_still_in_the_warehouse(project, backfilled):
    project.file(DAYS[1]).write_text("date,share_price,amount,spend,shift,spread\n2018-01-02,x,1,1,1,1\n")
    assert project.runner("run", DAYS[1]).exit_code == 1
    status = project.status(*RANGE)[DAYS[1]]
    assert (status["state"], status["rows"]) == ("failed", 20)


def test_a_chunk_shares_its_time_among_its_partitions(project, backfilled):
    entries = project.status(*RANGE)
    chunk = entries[DAYS[0]]
    assert chunk["chunk_partitions"] == 3
    assert chunk["duration_seconds"] == pytest.approx(chunk["chunk_seconds"] / 3, abs=0.002)
    table = project.runner("status", *RANGE)
    assert table.exit_code == 0
    took = f"{chunk['duration_seconds']:.2f}s ({chunk['chunk_seconds']:.1f}s for a chunk of 3)"
    rows = [line for line in table.output.splitlines() if line[:10] in DAYS]
    assert [re.fullmatch(r"\S+ +materialized +20 +\S+ \S+  [0-9a-f]{8} +(.*?)  OK", row)[1] for row in rows] == 3 * [took]


def test_an_older_run_recorded_later_does_not_override_a_newer_one(project, tmp_path):
    done = subprocess.run([DBT, "build", "--profiles-dir", ".", "--exclude-resource-type", "unit_test",
                           "--vars", "{partition_date: 2018-01-02}"], cwd=project.root, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
    older = tmp_path / "older_run_results.json"
    shutil.move(project.root / "target" / "run_results.json", older)
    assert project.runner("run", DAYS[1]).exit_code == 0
    newer = project.status("--start", DAYS[1], "--end", DAYS[1])[DAYS[1]]["invocation_id"]

    assert project.runner("record", str(older)).exit_code == 0

    assert project.status("--start", DAYS[1], "--end", DAYS[1])[DAYS[1]]["invocation_id"] == newer


def test_a_partition_in_flight_is_running_while_its_runner_lives(project, backfilled, tmp_path):
    ready, go = tmp_path / "ready", tmp_path / "go"
    project.file(DAYS[1]).write_text(project.file(DAYS[1]).read_text() + "\n")  # stale: the backfill reloads it
    child = subprocess.Popen([sys.executable, "-c", PAUSED_RUNNER, str(ready), str(go), COUNT_ROWS, "--project-dir", str(project.root),
                              "backfill", *RANGE], cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(ready.exists)
        result = project.runner("status", "--json", *RANGE)
        table = project.runner("status", *RANGE)
        assert (result.exit_code, table.exit_code) == (0, 0)
        entry = {e["partition_date"]: e for e in json.loads(result.stdout)}[DAYS[1]]
        assert entry["state"] == "running" and f"runner PID {child.pid}" in entry["message"]
        assert table.stdout.splitlines()[0] == "█>█"
    finally:
        go.touch()
        out, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    assert states(project)[DAYS[1]][0] == "materialized"


def test_unknown_names_are_usage_errors(project):
    for args, expected in [
        (["--target", "bogus", "status"], "Error: no target 'bogus' in profiles.yml: choose from duckdb, spark, cluster"),
        (["status", "--model", "nope"],
         "Error: Invalid value for '--model': 'nope' is not one of 'stg_daily_files__quotes', 'raw_partition_data', 'daily_summary'."),
        (["backfill", "--source-dir", str(project.root / "nonexistent")],
         f"Error: --source-dir {project.root / 'nonexistent'}: not an existing directory"),
    ]:
        result = project.runner(*args)
        assert result.exit_code == 2, (args, result.output)
        assert result.output.splitlines()[-1] == expected, result.output
    assert not project.warehouse.exists()


def test_glob_characters_in_the_source_folder_are_refused(project, tmp_path):
    other = tmp_path / "exports-b"
    shutil.copytree(project.source_dir, other)
    pattern = tmp_path / "exports*"
    pattern.mkdir()
    shutil.copy(project.file(DAYS[0]), pattern / f"{DAYS[0]}.csv")

    result = project.runner("run", DAYS[0], "--source-dir", str(pattern))

    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == f"Error: source folder {pattern}: a folder name with *, ?, [, ], {{ or }} is not supported"
    # dbt itself refuses the var too, before a file is read.
    done = subprocess.run([DBT, "build", "--profiles-dir", ".", "--select", "stg_daily_files__quotes",
                           "--vars", json.dumps({"partition_date": DAYS[0], "source_dir": str(pattern)})],
                          cwd=project.root, capture_output=True, text=True)
    assert done.returncode == 2 and "must not contain *, ?, [, ], { or }" in done.stdout


def test_a_fifo_at_a_partition_path_fails_that_partition_and_blocks_nothing(project, backfilled):
    project.file(DAYS[1]).unlink()
    os.mkfifo(project.file(DAYS[1]))
    runner = [str(Path(sys.executable).with_name("runner")), "--project-dir", str(project.root)]

    status = subprocess.run([*runner, "status", "--json", *RANGE], capture_output=True, text=True, timeout=120)
    run = subprocess.run([*runner, "run", DAYS[1]], capture_output=True, text=True, timeout=300)

    assert status.returncode == 0
    assert {e["partition_date"]: e["state"] for e in json.loads(status.stdout)}[DAYS[1]] == "stale"
    assert run.returncode == 1
    assert f"not a regular file: {project.file(DAYS[1])}" in run.stdout
    assert project.rows(DAYS[1]) == backfilled[DAYS[1]]


def test_sigterm_during_the_ledger_write_ends_with_the_summary_and_exit_130(project):
    done = subprocess.run([sys.executable, "-c", SIGTERM_IN_THE_LEDGER_WRITE, "--project-dir", str(project.root),
                           "backfill", *RANGE, "--chunk-size", "1"], cwd=project.root, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stdout.startswith("Interrupted: 1 loaded, 0 failed, 2 not run in ")
    # The write finished before the signal took effect: the first day is recorded whole.
    assert states(project)[DAYS[0]] == ("materialized", "OK")
    assert len(project.rows(DAYS[0])) == 20


# The runner's own entry point, with SIGTERM arriving while it imports its command line.
SIGTERM_DURING_START_UP = """
import importlib.abc, os, signal, sys
class SignalOnImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "runner.cli":
            os.kill(os.getpid(), signal.SIGTERM)
        return None
sys.meta_path.insert(0, SignalOnImport())
from runner.launch import main
sys.argv = ["runner", *sys.argv[1:]]
main()
"""


def test_sigterm_during_start_up_is_one_line_and_exit_130(project):
    done = subprocess.run([sys.executable, "-c", SIGTERM_DURING_START_UP, "--project-dir", str(project.root), "status"],
                          cwd=project.root, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr, done.stdout) == (130, "runner: interrupted while starting\n", "")


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)]).returncode:
        pytest.skip("mounting a small tmpfs needs root")
    yield disk
    subprocess.run(["umount", "-l", str(disk)])


def test_a_full_disk_under_the_ledger_is_one_line_and_the_ledger_stays_readable(project, small_disk, monkeypatch):
    monkeypatch.setenv("LEDGER_PATH", str(small_disk / "ledger.duckdb"))
    first = project.runner("run", DAYS[0])
    assert first.exit_code == 0, first.output
    filler = small_disk / "filler"
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass

    result = project.runner("run", DAYS[1])

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"ledger {small_disk / 'ledger.duckdb'}: " in result.output
    filler.unlink()
    assert project.status("--start", DAYS[0], "--end", DAYS[0])[DAYS[0]]["state"] == "materialized"


def invocation_folders(project) -> set[str]:
    """The runner's dbt invocations so far: one artifacts folder each (parse and compile keep one of their own)."""
    return {path.name for path in (project.root / "target" / "runner").iterdir()
            if path.is_dir() and path.name != "compile" and not path.name.startswith("parse-")}


def test_a_changed_seed_makes_its_partitions_stale_and_is_reloaded_once(project, backfilled):
    before = invocation_folders(project)
    assert project.runner("run", DAYS[0]).exit_code == 0
    assert len(invocation_folders(project) - before) == 1  # the build only: the unchanged seed is not reloaded

    seed = project.root / "seeds" / "nyse_holidays.csv"
    seed.write_text(seed.read_text().rstrip("\n") + "\n2018-01-02,Founders' Day\n")
    assert {entry for entry in states(project).values()} == {("stale", "seed nyse_holidays changed since it was loaded")}

    before = invocation_folders(project)
    result = project.runner("backfill", *RANGE)

    assert result.exit_code == 0, result.output
    assert len(invocation_folders(project) - before) == 2  # the seed, then the build
    assert project.query("select holiday_name, is_trading_day from daily_summary where partition_date = ?", [DAYS[1]]) == [
        ("Founders' Day", False)]
    assert {state for state, _ in states(project).values()} == {"materialized"}


def test_seeds_are_reloaded_into_a_new_warehouse(project, backfilled):
    project.warehouse.unlink()
    assert project.runner("backfill", *RANGE).exit_code == 0
    assert project.query("select count(*) from nyse_holidays")[0][0] > 0


# A runner whose first load meets a lock that another process holds, and lets go of once the
# load has failed on it: a transient failure, released after the first attempt.
LOCK_RELEASED_AFTER_THE_FIRST_ATTEMPT = """
import pathlib, subprocess, sys
from runner import dbt, loading
from runner.cli import main
from runner.duckdb_file import release_warehouse
warehouse, release = sys.argv[1], pathlib.Path(sys.argv[2])
HOLD = ("import duckdb, pathlib, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True)\\n"
        "while not pathlib.Path(sys.argv[2]).exists(): time.sleep(0.02)")
build, attempt, holder = dbt.Dbt.build_partitions, loading.Loader._attempt, []
def held_build(self, dates):
    if not holder:  # let go of the file this runner holds, and have another process lock it
        release_warehouse()
        holder.append(subprocess.Popen([sys.executable, "-c", HOLD, warehouse, str(release)], stdout=subprocess.PIPE, text=True))
        assert holder[0].stdout.readline() == "ready\\n"
    return build(self, dates)
def released_after(self, dates):
    outcome, error = attempt(self, dates)
    if error and not release.exists():
        release.touch()
        holder[0].wait()
    return outcome, error
dbt.Dbt.build_partitions, loading.Loader._attempt = held_build, released_after
sys.argv = ["runner", *sys.argv[3:]]
main()
"""


def test_a_lock_released_after_the_first_attempt_is_retried_and_a_data_error_is_not(project, tmp_path):
    done = subprocess.run([sys.executable, "-c", LOCK_RELEASED_AFTER_THE_FIRST_ATTEMPT, str(project.warehouse),
                           str(tmp_path / "release"), "--project-dir", str(project.root), "run", DAYS[0], "--json"],
                          cwd=project.root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)["partitions"][0]
    assert (loaded["outcome"], loaded["attempts"]) == ("loaded", 2)
    assert (tmp_path / "release").exists()  # the first attempt did meet the lock

    project.file(DAYS[1]).write_text("date,share_price,amount,spend,shift,spread\n2018-01-02,ten,1,1,1,1\n")
    result = project.runner("run", DAYS[1], "--retries", "3", "--json")
    assert result.exit_code == 1
    failed = json.loads(result.stdout)["partitions"][0]
    assert (failed["outcome"], failed["attempts"]) == ("failed", 1)


def test_a_running_backfill_holds_the_warehouse_against_others_and_status_answers(project, backfilled, tmp_path):
    ready, go = tmp_path / "ready", tmp_path / "go"
    project.file(DAYS[1]).write_text(project.file(DAYS[1]).read_text() + "\n")
    child = subprocess.Popen([sys.executable, "-c", PAUSED_RUNNER, str(ready), str(go), COUNT_ROWS, "--project-dir", str(project.root),
                              "backfill", *RANGE], cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(ready.exists)
        second = project.runner("run", DAYS[0], "--retries", "0")
        by_hand = subprocess.run([DBT, "run", "--profiles-dir", ".", "--vars", "{partition_date: 2018-01-01}"],
                                 cwd=project.root, capture_output=True, text=True)
        status = project.runner("status", *RANGE)
    finally:
        go.touch()
        out, err = child.communicate(timeout=300)
    assert second.exit_code == 1 and "lock" in second.output and f"PID {child.pid}" in second.output
    assert by_hand.returncode == 2 and "lock" in by_hand.stdout and f"PID {child.pid}" in by_hand.stdout
    assert status.exit_code == 0
    assert f"note: the warehouse could not be checked: a load holds it (PID {child.pid})" in status.stderr
    assert child.returncode == 0, err
    assert {day: project.rows(day) for day in (DAYS[0], DAYS[2])} == {day: backfilled[day] for day in (DAYS[0], DAYS[2])}
