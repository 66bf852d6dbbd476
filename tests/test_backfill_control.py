"""Backfill control: selection, plans, staleness, retries, fail-fast, history, health bar."""

from __future__ import annotations

import json
import re

import duckdb

HEADER = "date,share_price,amount,spend,shift,spread\n"
BAD = HEADER + "2018-01-03,ten,1,1,1,1\n"
WHEN, SECONDS = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r"\b\d+\.\d\ds\b"  # when a run ended, how long a node took


def ledger_rows(project) -> int:
    with duckdb.connect(str(project.ledger), read_only=True) as ledger:
        return ledger.execute("select count(*) from partition_runs").fetchone()[0]


def test_selection_plans_and_dry_runs(project):
    assert project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03", "--chunk-size", "1").exit_code == 0
    project.file("2018-01-02").write_text(project.file("2018-01-02").read_text() + "\n")  # stale by file
    recorded = ledger_rows(project)

    plain = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-05", "--dry-run")
    as_json = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-05", "--dry-run", "--json")
    everything = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-05", "--dry-run", "--only", "all", "--json")
    only_missing = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-05", "--dry-run", "--only", "missing", "--json")

    assert (plain.exit_code, as_json.exit_code, everything.exit_code, only_missing.exit_code) == (0, 0, 0, 0)
    assert plain.output.splitlines() == [
        "2018-01-02  stale         source file changed since it was loaded",
        "2018-01-04  missing       never loaded",
        "2018-01-05  missing       never loaded",
        "3 of 5 partitions would run in 1 dbt invocation (dry run: nothing changed)",
    ]
    assert json.loads(as_json.output) == [
        {"partition_date": "2018-01-02", "state": "stale", "reason": "source file changed since it was loaded", "invocation": 1},
        {"partition_date": "2018-01-04", "state": "missing", "reason": "never loaded", "invocation": 1},
        {"partition_date": "2018-01-05", "state": "missing", "reason": "never loaded", "invocation": 1},
    ]
    assert [item["partition_date"][-2:] for item in json.loads(everything.output)] == ["01", "02", "03", "04", "05"]
    assert [item["partition_date"][-2:] for item in json.loads(only_missing.output)] == ["04", "05"]
    assert ledger_rows(project) == recorded  # a dry run writes nothing

    # The default selection loads just those; the same command again has nothing to do.
    loaded = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-05")
    assert loaded.exit_code == 0, loaded.output
    assert [line[:18] for line in loaded.output.splitlines()[:3]] == ["2018-01-02  loaded", "2018-01-04  loaded", "2018-01-05  loaded"]
    again = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-05")
    assert again.exit_code == 0
    assert again.output == "Nothing to do: no partition from 2018-01-01 to 2018-01-05 is failed or missing or stale.\n"


def test_unknown_state_is_a_usage_error(project):
    result = project.runner("backfill", "--only", "missing,bogus")
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        "Error: Invalid value for '--only': bogus is not a state to load: choose from materialized, failed, stale, missing or all")


def test_stale_by_code(project):
    assert project.runner("run", "2018-01-01").exit_code == 0
    model = project.root / "models" / "marts" / "daily_summary.sql"
    model.write_text(model.read_text().replace("count(*) as quote_count", "count(1) as quote_count"))

    statuses = project.status("--start", "2018-01-01", "--end", "2018-01-01")

    assert statuses["2018-01-01"]["state"] == "stale"
    assert statuses["2018-01-01"]["message"] == "code of daily_summary changed since it was loaded"
    assert project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-01").exit_code == 0
    assert project.status("--start", "2018-01-01", "--end", "2018-01-01")["2018-01-01"]["state"] == "materialized"


def test_fail_fast_stops_at_the_first_failure_and_json_reports_it(project):
    project.file("2018-01-02").write_text(BAD.replace("2018-01-03", "2018-01-02"))

    result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-04", "--chunk-size", "1", "--fail-fast", "--json")

    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["summary"]["loaded"] == 1 and report["summary"]["failed"] == 1 and report["summary"]["not run"] == 2
    assert [p["outcome"] for p in report["partitions"]] == ["loaded", "failed", "not run", "not run"]
    assert report["partitions"][1]["message"] == (
        f"stg_daily_files__quotes: Invalid Input Error: unparseable number in {project.file('2018-01-02')} (column share_price): 'ten'")


def test_a_data_error_is_not_retried(project):
    project.file("2018-01-03").write_text(BAD)
    result = project.runner("run", "2018-01-03", "--retries", "2", "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["partitions"][0]["attempts"] == 1


def test_history_lists_every_run_newest_first(project):
    assert project.runner("run", "2018-01-03").exit_code == 0
    project.file("2018-01-03").write_text(BAD)
    assert project.runner("run", "2018-01-03").exit_code == 1

    plain, as_json = project.runner("history", "2018-01-03"), project.runner("history", "2018-01-03", "--json")
    never = project.runner("history", "2018-01-20")

    assert (plain.exit_code, as_json.exit_code, never.exit_code) == (0, 0, 0)
    lines, runs = plain.output.splitlines(), json.loads(as_json.output)

    heads = [re.fullmatch(rf"{WHEN}  [0-9a-f-]{{36}}  (.*)  {SECONDS}", line) for line in lines if not line.startswith(" ")]
    assert [head[1] for head in heads] == ["failed  rows -", "success  rows 20"]  # newest first
    assert (f"    model      {'stg_daily_files__quotes':<48} error  #.##s  Invalid Input Error: unparseable number in "
            f"{project.file('2018-01-03')} (column share_price): 'ten'") in [re.sub(SECONDS, "#.##s", line) for line in lines]
    assert [run["invocation_id"] for run in runs] == [head[0].split()[2] for head in heads]
    assert never.output == "2018-01-20: never run\n"


def test_status_draws_a_calendar_for_long_ranges_and_filters_by_model(project):
    assert project.runner("run", "2018-01-02").exit_code == 0
    result = project.runner("status", "--start", "2017-01-01", "--end", "2018-12-31")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    months = [line for line in lines[:25] if line[:4] in ("2017", "2018") and line[4] == "-" and len(line.split()[0]) == 7]
    assert len(months) == 24
    january = next(line for line in months if line.startswith("2018-01"))
    assert january == "2018-01 ·█···" + "L" * 26  # 01-05 have files, the rest are late (long past their deadline)
    summary = project.status("--start", "2018-01-02", "--end", "2018-01-02", "--model", "daily_summary")["2018-01-02"]
    assert summary["state"] == "materialized" and summary["rows"] == 1
