"""Unattended operation: a missing file is never a failure, a late one is told apart, a file still
being copied is left for the next run, an empty range is a range, and the watcher follows the clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

from test_daily_operation import open_ended

from bench.sample_data import write_days
from runner.backfills import LoadSettings
from runner.dbt import Dbt, end_of_command
from runner.project import load_project
from runner.watching import Watcher, WatchSettings

HOLD_OPEN = """
import sys
handle = open(sys.argv[1], "w")
handle.write(sys.argv[2])
handle.flush()
print("written", flush=True)
sys.stdin.readline()  # the copy goes on until the test says it is done
handle.write(sys.argv[3])
handle.close()
"""


def deadline(project, value: str) -> None:
    """The project's partitions_late_after, set to value."""
    path = project.root / "dbt_project.yml"
    path.write_text(path.read_text().replace('partitions_late_after: "24h"', f"partitions_late_after: {json.dumps(value)}"))


def states(project, *args: str) -> dict[str, str]:
    return {day: entry["state"] for day, entry in project.status(*args).items()}


def test_a_day_whose_file_is_gone_or_never_came_never_fails_the_nightly_backfill(project, monkeypatch):
    monkeypatch.setenv("RUNNER_NOW", "2018-01-07T06:15:00Z")  # 2018-01-06 is due, not yet late
    good = project.file("2018-01-02").read_text()
    project.file("2018-01-02").write_text(good.replace("\n2018-01-02,", "\n2018-01-02,x", 1))
    assert project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-02").exit_code == 1
    project.file("2018-01-02").unlink()  # the bad file withdrawn: the day awaits a new one
    project.file("2018-01-01").unlink()  # a loaded day's file deleted: its rows stay

    assert states(project, "--start", "2018-01-01", "--end", "2018-01-06") == {
        "2018-01-01": "stale", "2018-01-02": "late", "2018-01-03": "missing", "2018-01-04": "missing",
        "2018-01-05": "missing", "2018-01-06": "awaiting"}
    result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-06", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    assert (summary["loaded"], summary["failed"]) == (3, 0)
    assert summary["late"]["dates"] == ["2018-01-02"] and summary["awaiting"]["dates"] == ["2018-01-06"]
    assert len(project.rows("2018-01-01")) == 20  # kept while its file is away

    again = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-06")
    assert again.exit_code == 0
    assert again.stdout.splitlines() == [
        "Nothing to do: no partition from 2018-01-01 to 2018-01-06 is failed or missing or stale.",
        "1 awaiting its file (not run): 2018-01-06",
        "1 late: its file past the deadline (not run): 2018-01-02"]


def test_forget_removes_a_gone_files_rows_and_the_day_awaits_it_again(project, monkeypatch):
    monkeypatch.setenv("RUNNER_NOW", "2018-01-04T06:15:00Z")  # 2018-01-03 due, not yet late
    assert project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03").exit_code == 0
    kept = project.file("2018-01-03").read_text()
    project.file("2018-01-03").unlink()

    refused = project.runner("forget", "2018-01-02")  # its file is there: it is loaded, not forgotten
    assert refused.exit_code == 2 and "2018-01-02: its file " in refused.output and "runner run 2018-01-02" in refused.output
    result = project.runner("forget", "2018-01-03")
    assert result.exit_code == 0, result.output
    assert result.output == ("2018-01-03: forgotten (20 rows of raw_partition_data and 1 row of daily_summary removed); "
                             "it awaits its file\n")
    assert project.rows("2018-01-03") == [] and len(project.rows("2018-01-02")) == 20
    assert project.query("select count(*) from daily_summary where partition_date = '2018-01-03'") == [(0,)]
    entry = project.status("--start", "2018-01-01", "--end", "2018-01-03", "--verify")["2018-01-03"]
    assert (entry["state"], entry["message"]) == ("awaiting", "its file has not arrived; its last run: forgotten")
    nightly = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03")
    assert nightly.exit_code == 0 and nightly.stdout.startswith("Nothing to do"), nightly.output
    history = json.loads(project.runner("history", "2018-01-03", "--json").output)  # newest first; the load kept
    assert [node["status"] for node in history[0]["nodes"]] == ["forgotten"] and len(history) == 2

    project.file("2018-01-03").write_text(kept)  # back: loaded as a new day
    assert project.status("--start", "2018-01-03", "--end", "2018-01-03")["2018-01-03"]["message"] == "forgotten; its file is back"
    assert project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03").exit_code == 0
    assert len(project.rows("2018-01-03")) == 20
    assert {entry["state"] for entry in project.status("--start", "2018-01-01", "--end", "2018-01-03", "--verify").values()} == {
        "materialized"}


def test_late_follows_the_deadline_and_summaries_name_the_days(project, monkeypatch):
    open_ended(project)
    deadline(project, "1d 6h")
    for day in ("2018-01-02", "2018-01-04"):
        project.file(day).unlink()
    # 2018-01-04 closed at midnight on the 5th: late from 06:00 on the 6th.
    monkeypatch.setenv("RUNNER_NOW", "2018-01-06T05:59:00Z")
    assert states(project)["2018-01-04"] == "awaiting"
    monkeypatch.setenv("RUNNER_NOW", "2018-01-06T06:00:00Z")
    entries = project.status()
    assert entries["2018-01-04"]["state"] == "late"
    assert entries["2018-01-04"]["message"] == "its file has not arrived (past its deadline)"
    plan = project.runner("backfill", "--dry-run")
    assert plan.stdout.splitlines()[-1] == "2 late: their files past the deadline (not run): 2018-01-02, 2018-01-04"
    monkeypatch.setenv("RUNNER_NOW", "2018-01-20T06:00:00Z")
    plan = project.runner("backfill", "--dry-run")
    assert plan.stdout.splitlines()[-2:] == [
        "1 awaiting its file (not run): 2018-01-19",
        "15 late: their files past the deadline (not run), the first 2018-01-02, the last 2018-01-18"]


def test_a_bad_deadline_is_a_usage_error(project):
    deadline(project, "soon")
    result = project.runner("status")
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        "Error: dbt_project.yml vars: partitions_late_after: 'soon' is not a duration such as 24h, 1d 6h or 90m")


def test_an_open_end_that_starts_today_is_an_empty_range_for_every_command(project, monkeypatch):
    open_ended(project)
    monkeypatch.setenv("RUNNER_NOW", "2018-01-01T12:00:00Z")  # the first partition is due tomorrow
    assert project.status() == {}
    backfill = project.runner("backfill")
    assert (backfill.exit_code, backfill.stdout) == (
        0, "Nothing to do: no partition is defined yet (the first one is due when its day closes).\n")
    once = project.runner("watch", "--once", "--json")
    assert once.exit_code == 0, once.output
    assert json.loads(once.stdout.splitlines()[-1])["loaded"] == 0
    given = project.runner("status", "--end", "2017-12-30")
    assert given.exit_code == 2 and given.output.splitlines()[-1] == (
        "Error: --end 2017-12-30 is before the first defined partition, 2018-01-01")


def test_the_nightly_backfill_leaves_a_file_still_being_copied_for_the_next_run(project, tmp_path, monkeypatch):
    monkeypatch.setenv("RUNNER_NOW", "2018-01-04T06:15:00Z")  # the copy of 2018-01-03 started at 06:14
    project.file("2018-01-03").unlink()
    whole = write_days(tmp_path / "stage", date(2018, 1, 3), days=1, rows=20, seed=3)[0].read_text()
    cut = whole.index("\n", len(whole) // 2) + 1  # half the rows, cut at a row's end: it would parse
    copying = subprocess.Popen([sys.executable, "-c", HOLD_OPEN, str(project.file("2018-01-03")), whole[:cut], whole[cut:]],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert copying.stdout.readline() == "written\n"
        result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03", "--json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert [entry["partition_date"] for entry in report["partitions"]] == ["2018-01-01", "2018-01-02"]
        assert report["summary"]["awaiting"]["dates"] == ["2018-01-03"]
        assert project.status("--start", "2018-01-03", "--end", "2018-01-03")["2018-01-03"]["message"].startswith(
            "its file is still being written")
    finally:
        copying.communicate("done\n", timeout=60)
    assert project.runner("backfill", "--start", "2018-01-03", "--end", "2018-01-03", "--settle", "0").exit_code == 0
    assert len(project.rows("2018-01-03")) == 20  # the whole file, never its first half


def test_the_watcher_loads_a_file_that_landed_early_when_its_day_closes(project, tmp_path, monkeypatch):
    open_ended(project)
    monkeypatch.setenv("RUNNER_NOW", "2018-01-06T20:00:00Z")  # 2018-01-05 is the last day due
    events: list[dict] = []
    watcher = Watcher(Dbt(load_project(str(project.root))), LoadSettings(), WatchSettings(settle=0), events.append)
    try:
        watcher.catch_up()
        assert events[-1]["event"] == "caught_up" and events[-1]["loaded"] == 5
        early = write_days(project.source_dir, date(2018, 1, 6), days=1, rows=20)[0]  # lands in the evening
        watcher.saw({(1, str(early))})
        assert events[-1]["event"] == "early" and events[-1]["partition_date"] == "2018-01-06"
        assert watcher.load_complete() is None  # not before its day closes
        monkeypatch.setenv("RUNNER_NOW", "2018-01-07T00:00:05Z")  # midnight passes: nothing touches the file
        watcher.clock_looked -= 1.0  # the once-a-second look is due (no sleeping in tests)
        result = watcher.follow_clock()
        assert result is not None and result.loaded == 1
        assert [event["event"] for event in events[-3:]] == ["day_closed", "load", "caught_up"]
        assert events[-2]["partition_date"] == "2018-01-06" and events[-2]["outcome"] == "loaded"
    finally:
        end_of_command()
    assert states(project, "--start", "2018-01-06", "--end", "2018-01-06") == {"2018-01-06": "materialized"}


def test_a_file_dated_in_the_future_is_judged_by_its_content(project):
    ahead = project.file("2018-01-02").stat().st_mtime + 86400  # a writer whose clock runs a day ahead
    os.utime(project.file("2018-01-02"), (ahead, ahead))
    assert project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03").exit_code == 0
    assert states(project, "--start", "2018-01-01", "--end", "2018-01-03") == {
        "2018-01-01": "materialized", "2018-01-02": "materialized", "2018-01-03": "materialized"}
    again = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03")
    assert again.stdout.startswith("Nothing to do")  # never reloaded night after night


def test_run_leaves_a_file_still_being_copied_and_says_so(project, tmp_path):
    project.file("2018-01-03").unlink()
    whole = write_days(tmp_path / "stage", date(2018, 1, 3), days=1, rows=20, seed=3)[0].read_text()
    cut = whole.index("\n", len(whole) // 2) + 1
    copying = subprocess.Popen([sys.executable, "-c", HOLD_OPEN, str(project.file("2018-01-03")), whole[:cut], whole[cut:]],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert copying.stdout.readline() == "written\n"
        result = project.runner("run", "2018-01-03", "--awaiting-exit-code", "99")
    finally:
        copying.communicate("done\n", timeout=60)
    assert (result.exit_code, result.stdout) == (99, "")
    assert result.stderr == (f"2018-01-03: its file {project.file('2018-01-03')} is still being written: the partition "
                             "awaits it (nothing run)\n")
    assert not project.warehouse.exists()
