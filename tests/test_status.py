"""runner status and the ledger: states, JSON, runs made by hand."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb

from runner.recording import PartitionRun
from runner.states import failure_message

DBT = str(Path(sys.executable).with_name("dbt"))


def test_status_json_has_every_partition_with_its_state(project):
    assert project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-02").exit_code == 0
    project.file("2018-01-02").write_text(project.file("2018-01-02").read_text() + "\n")  # changed since loaded
    project.file("2018-01-03").write_text("date,share_price,amount,spend,shift,spread\n2018-01-03,x,1,1,1,1\n")
    assert project.runner("run", "2018-01-03").exit_code == 1

    result = project.runner("status", "--start", "2017-12-31", "--end", "2018-01-03", "--json")

    assert result.exit_code == 0
    entries = json.loads(result.output)
    assert [(e["partition_date"], e["state"]) for e in entries] == [
        ("2017-12-31", "late"), ("2018-01-01", "materialized"), ("2018-01-02", "stale"), ("2018-01-03", "failed"),
    ]
    # The keys the README lists for status --json.
    assert [sorted(entry) for entry in entries] == 4 * [sorted(["partition_date", "state", "rows", "invocation_id", "last_run_at",
                                                                "duration_seconds", "message", "warnings", "chunk_seconds",
                                                                "chunk_partitions", "stale_reasons"])]
    assert [entry["stale_reasons"] for entry in entries] == [[], [], ["file_changed"], []]
    assert entries[1]["rows"] == 20 and len(entries[1]["invocation_id"]) == 36
    assert entries[2]["message"] == "source file changed since it was loaded"
    assert entries[3]["message"] == (
        f"stg_daily_files__quotes: Invalid Input Error: unparseable number in {project.file('2018-01-03')} (column share_price): 'x'")
    assert entries[0]["rows"] is None and entries[0]["invocation_id"] is None


def test_status_table_is_readable(project):
    assert project.runner("run", "2018-01-01").exit_code == 0
    result = project.runner("status", "--start", "2018-01-01", "--end", "2018-01-02")
    assert result.exit_code == 0
    bar, legend, header, first, second, summary = result.output.splitlines()
    assert bar == "█·"  # one cell per day, as the legend explains
    assert legend.split() == ["█", "materialized", "X", "failed", "~", "stale", "·", "missing", ">", "running",
                              "_", "awaiting", "L", "late", "!", "materialized", "with", "warnings"]
    assert header.split() == ["partition_date", "state", "rows", "last_run_at", "invocation_id", "took", "message"]
    assert re.fullmatch(r"2018-01-01      materialized  20    \d{4}-\d\d-\d\d \d\d:\d\d:\d\d  [0-9a-f]{8}       \d+\.\d\ds  OK", first)
    assert second.split() == ["2018-01-02", "missing", "-", "-", "-", "-", "never", "loaded"]
    assert summary == "1 materialized, 0 failed, 0 stale, 1 missing"


def test_status_defaults_to_the_defined_range(project):
    statuses = project.status()
    assert min(statuses) == "2018-01-01" and max(statuses) == "2018-01-31" and len(statuses) == 31


def test_ledger_records_every_node_per_partition(project):
    assert project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-02").exit_code == 0
    with duckdb.connect(str(project.ledger), read_only=True) as ledger:
        rows = ledger.execute(
            "select partition_date::varchar, resource_type, count(*), count(distinct invocation_id),"
            " bool_and(status in ('success', 'pass', 'no-op')), max(rows_loaded), count(distinct source_fingerprint)"
            " from partition_runs group by all order by all"
        ).fetchall()
        models = ledger.execute(
            "select unique_id, rows_loaded, started_at <= completed_at, execution_time > 0, length(code_fingerprint)"
            " from partition_runs where resource_type = 'model' and partition_date = '2018-01-01' order by 1"
        ).fetchall()
    # dbt build reports the exposure as a no-op; the ledger keeps every result it reports
    assert [row[:2] for row in rows] == [
        (day, resource_type) for day in ("2018-01-01", "2018-01-02") for resource_type in ("exposure", "model", "test")
    ]
    assert all(row[3] == 1 and row[4] and row[6] == 1 for row in rows)
    assert models == [
        ("model.daily_loads.daily_summary", 1, True, True, 64),
        ("model.daily_loads.raw_partition_data", 20, True, True, 64),
        ("model.daily_loads.stg_daily_files__quotes", 20, True, True, 64),
    ]


def test_a_dbt_run_made_by_hand_shows_in_status(project):
    assert project.runner("run", "2018-01-01").exit_code == 0  # seeds loaded, as a user would have
    hand = subprocess.run(
        [DBT, "run", "--profiles-dir", ".", "--vars", "{partition_date: 2018-01-03}"],
        cwd=project.root, capture_output=True, text=True,
    )
    assert hand.returncode == 0, hand.stdout
    invocation_id = json.loads((project.root / "target" / "run_results.json").read_text())["metadata"]["invocation_id"]

    status = project.status("--start", "2018-01-03", "--end", "2018-01-03")["2018-01-03"]

    assert status["state"] == "materialized"
    assert status["invocation_id"] == invocation_id
    assert status["rows"] == 20
    # Shown, not recorded (a look never writes); `runner record` records it, once.
    recorded, again = project.runner("record"), project.runner("record")
    assert (recorded.exit_code, recorded.output) == (0, f"recorded 1 hand run(s) kept in {project.warehouse}\n"
                                                        f"already recorded: {project.root / 'target' / 'run_results.json'}\n")
    assert (again.exit_code, again.output) == (0, f"already recorded: {project.root / 'target' / 'run_results.json'}\n")


def test_a_hand_run_whose_warehouse_is_gone_is_not_recorded(project):
    hand = subprocess.run(
        [DBT, "build", "--profiles-dir", ".", "--vars", "{partition_date: 2018-01-03}",
         "--select", "nyse_holidays stg_daily_files__quotes+"],
        cwd=project.root, capture_output=True, text=True,
    )
    assert hand.returncode == 0, hand.stdout
    project.warehouse.unlink()  # replaced since: the tables the run built are not there

    assert project.status("--start", "2018-01-03", "--end", "2018-01-03")["2018-01-03"]["state"] == "missing"
    result = project.runner("record")
    assert result.exit_code == 1
    message = result.output.strip()
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith(f"Error: {project.root / 'target' / 'run_results.json'}: its tables are not in {project.warehouse}: ")
    assert "does not exist" in message


def test_record_reads_a_saved_run_results(project, tmp_path):
    assert project.runner("run", "2018-01-01").exit_code == 0
    hand = subprocess.run(
        [DBT, "build", "--profiles-dir", ".", "--vars", "{partition_date: 2018-01-04}", "--select", "stg_daily_files__quotes+"],
        cwd=project.root, capture_output=True, text=True,
    )
    assert hand.returncode == 0, hand.stdout
    saved = tmp_path / "saved.json"
    saved.write_text((project.root / "target" / "run_results.json").read_text())

    result = project.runner("record", str(saved))

    assert result.exit_code == 0
    assert result.output == f"recorded 1 partition(s) from {saved}\n"
    assert project.status("--start", "2018-01-04", "--end", "2018-01-04")["2018-01-04"]["state"] == "materialized"


def test_a_run_on_another_target_stays_out_of_this_targets_ledger(project, tmp_path):
    fixture = json.loads((Path(__file__).parent / "fixtures" / "run_results_failed.json").read_text())
    fixture["args"]["target"] = "spark"
    (project.root / "target").mkdir(exist_ok=True)
    (project.root / "target" / "run_results.json").write_text(json.dumps(fixture))
    day = fixture["args"]["vars"]["partition_date"]

    assert project.status("--start", day, "--end", day)[day]["state"] == "late"  # not picked up here (no file either)
    result = project.runner("record")
    assert result.exit_code == 1
    assert result.output.endswith("the invocation ran on target spark, not duckdb: use --target spark\n")
    assert not project.ledger.exists()

    from runner.project import load_project

    assert load_project(str(project.root), target="spark").ledger_path == project.root / "data" / "warehouse.spark.ledger.duckdb"
    assert load_project(str(project.root), target="duckdb").ledger_path == project.ledger
    bad = project.runner("--target", "../x", "status")
    assert bad.exit_code == 2 and bad.output.splitlines()[-1] == (
        "Error: Invalid value for --target: target '../x': a target name is letters, digits, '_' and '-'")


def test_record_of_a_run_without_partition_vars_is_one_clear_error(project, tmp_path):
    fixture = json.loads((Path(__file__).parent / "fixtures" / "run_results_failed.json").read_text())
    fixture["args"]["vars"] = {}
    path = tmp_path / "run_results.json"
    path.write_text(json.dumps(fixture))
    result = project.runner("record", str(path))
    assert result.exit_code == 1
    assert result.output == f"Error: {path}: the invocation names no partition_date in its --vars\n"


def test_a_failure_is_named_the_same_whatever_order_the_nodes_finished_in():
    def run(unique_id: str, status: str, message: str | None = None) -> PartitionRun:
        return PartitionRun(date(2018, 1, 1), "inv", unique_id, unique_id.split(".")[0], status, message,
                            None, 0.1, None, None, None, None, None, None, datetime(2018, 1, 2))

    finished = [
        run("test.daily_loads.stg_quotes_are_possible", "fail", "Got 1 result"),
        run("model.daily_loads.raw_partition_data", "skipped"),
        run("test.daily_loads.not_null_stg_daily_files__quotes_volume", "fail", "Got 2 results"),
        run("test.daily_loads.not_null_stg_daily_files__quotes_open_price", "pass"),
    ]

    named = {failure_message(order) for order in (finished, finished[::-1], finished[1:] + finished[:1])}

    assert named == {"not_null_stg_daily_files__quotes_volume: Got 2 results"}
