"""Running every day: files not yet arrived, the open end on a pinned clock, the latest day, and a
backfill with nothing to do that never starts dbt."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import pytest
from conftest import REPO, STATUS_REPORTING_IMPORTS


def open_ended(project, **extra) -> None:
    """dbt_project.yml without partitions_end_date, with these vars."""
    text = project.root.joinpath("dbt_project.yml").read_text()
    lines = [line for line in text.splitlines() if not line.strip().startswith("partitions_end_date")]
    at = next(index for index, line in enumerate(lines) if line.strip().startswith("partitions_start_date")) + 1
    lines[at:at] = [f"  {name}: {json.dumps(value)}" for name, value in extra.items()]
    project.root.joinpath("dbt_project.yml").write_text("\n".join(lines) + "\n")


def test_awaiting_missing_and_stale_are_told_apart(project):
    assert project.runner("run", "2018-01-01").exit_code == 0
    project.file("2018-01-01").unlink()  # loaded, then its file went
    statuses = project.status("--start", "2018-01-01", "--end", "2018-01-06")
    assert {day: entry["state"] for day, entry in statuses.items()} == {
        "2018-01-01": "stale", "2018-01-02": "missing", "2018-01-03": "missing", "2018-01-04": "missing",
        "2018-01-05": "missing", "2018-01-06": "awaiting"}
    assert statuses["2018-01-01"]["message"] == "source file is gone since it was loaded"
    bar = project.runner("status", "--start", "2018-01-05", "--end", "2018-01-07")
    assert bar.exit_code == 0 and bar.stdout.splitlines()[0] == "·__"


def test_a_backfill_skips_awaiting_days_without_running_dbt_for_them(project):
    result = project.runner("backfill", "--start", "2018-01-04", "--end", "2018-01-09", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [p["partition_date"] for p in report["partitions"]] == ["2018-01-04", "2018-01-05"]
    assert report["summary"]["awaiting"] == {"count": 4, "first": "2018-01-06", "last": "2018-01-09"}

    result = project.runner("backfill", "--start", "2018-01-04", "--end", "2018-01-09")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "Nothing to do: no partition from 2018-01-04 to 2018-01-09 is failed or missing or stale.",
        "4 awaiting their files (not run): 2018-01-06 to 2018-01-09"]


def test_awaiting_cannot_be_selected_and_a_day_without_a_file_is_one_line(project):
    result = project.runner("backfill", "--only", "awaiting")
    assert result.exit_code == 2 and result.output.splitlines()[-1] == (
        "Error: Invalid value for '--only': awaiting partitions have no file to load yet: choose from materialized, failed, "
        "stale, missing or all")

    result = project.runner("run", "2018-01-09")
    assert result.exit_code == 1
    assert result.output == f"Error: 2018-01-09: no file at {project.file('2018-01-09')} (the partition awaits it)\n"
    assert not project.warehouse.exists()


@pytest.mark.parametrize("now, vars, last", [
    ("2018-01-04T23:59:00Z", {}, "2018-01-03"),  # yesterday: today's file cannot be complete yet
    ("2018-01-05T00:00:01Z", {}, "2018-01-04"),
    ("2018-01-05T03:00:00Z", {"partitions_timezone": "America/New_York"}, "2018-01-03"),  # 22:00 on the 4th there
    ("2018-01-04T12:00:00Z", {"partitions_end_offset": 1}, "2018-01-04"),
])
def test_the_open_end_is_the_last_complete_day_on_a_pinned_clock(project, monkeypatch, now, vars, last):
    open_ended(project, **vars)
    monkeypatch.setenv("RUNNER_NOW", now)
    statuses = project.status()
    assert (min(statuses), max(statuses)) == ("2018-01-01", last)


@pytest.mark.parametrize("vars, message", [
    ({"partitions_end_offset": "one"}, "partitions_end_offset must be a whole number of days, got 'one'"),
    ({"partitions_timezone": "Mars/Olympus"},
     "partitions_timezone 'Mars/Olympus' is not a time zone (for example UTC or America/New_York)"),
])
def test_bad_open_end_vars_are_usage_errors(project, vars, message):
    open_ended(project, **vars)
    result = project.runner("status")
    assert result.exit_code == 2 and result.output.splitlines()[-1] == f"Error: dbt_project.yml vars: {message}"


def test_latest_and_last_n_follow_the_clock(project, monkeypatch):
    open_ended(project)
    monkeypatch.setenv("RUNNER_NOW", "2018-01-04T06:00:00Z")  # the latest partition: 2018-01-03

    plan = project.runner("backfill", "--last", "2", "--dry-run", "--json")
    assert plan.exit_code == 0
    assert [item["partition_date"] for item in json.loads(plan.stdout)] == ["2018-01-02", "2018-01-03"]
    result = project.runner("run", "latest")
    assert result.exit_code == 0 and result.output.startswith("2018-01-03  loaded  20 rows")
    assert project.runner("backfill", "--last", "2", "--start", "2018-01-01").exit_code == 2


def test_a_backfill_with_nothing_to_do_never_imports_dbt(project):
    assert project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03").exit_code == 0
    done = subprocess.run([sys.executable, "-c", STATUS_REPORTING_IMPORTS, "--project-dir", str(project.root),
                           "backfill", "--start", "2018-01-01", "--end", "2018-01-03"], cwd=project.root,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Nothing to do: no partition from 2018-01-01 to 2018-01-03 is failed or missing or stale.\n"
    assert json.loads(done.stderr.splitlines()[-1]) == []


def cron_commands() -> list[list[str]]:
    """The runner's arguments in each cron line of the README ("Running it every day")."""
    return [shlex.split(line.split(".venv/bin/runner", 1)[1].split(">>", 1)[0])
            for line in (REPO / "README.md").read_text().splitlines() if line.startswith("15 6 * * *")]


def run_twice_at_dawn(project, monkeypatch, line: int, expected: list[str]):
    """The README's cron line number `line` (it must say `expected`), run twice as written on an open
    end, at 06:15 on 2018-01-08: partitions up to 2018-01-07, files up to 2018-01-05."""
    command = cron_commands()[line]
    assert command == expected
    open_ended(project)
    monkeypatch.setenv("RUNNER_NOW", "2018-01-08T06:15:00Z")
    return project.runner(*command), project.runner(*command)


def test_the_readmes_nightly_command_loads_what_arrived_and_then_has_nothing_to_do(project, monkeypatch):
    """The first cron line of the README, run as written on an open end and a pinned clock."""
    first, second = run_twice_at_dawn(project, monkeypatch, 0, ["backfill", "--quiet"])

    assert first.exit_code == 0, first.output
    summary, awaiting = first.stdout.splitlines()[-2:]
    assert summary.startswith("5 loaded, 0 failed in ")
    assert awaiting == "2 awaiting their files (not run): 2018-01-06 to 2018-01-07"
    assert second.exit_code == 0 and second.stdout.splitlines() == [
        "Nothing to do: no partition from 2018-01-01 to 2018-01-07 is failed or missing or stale.", awaiting]


def test_the_readmes_watch_once_cron_line_catches_up_and_sums_up(project, monkeypatch):
    """The second cron line (`runner watch --once`), run as written on an open end and a pinned clock."""
    first, second = run_twice_at_dawn(project, monkeypatch, 1, ["watch", "--once"])

    assert first.exit_code == 0, first.output
    assert [line.split()[:3] for line in first.stdout.splitlines()[:-1]] == [
        [f"2018-01-0{n}", "loaded", "20"] for n in range(1, 6)]
    assert first.stdout.splitlines()[-1] == "caught up: 5 loaded, 0 failed; 2 awaiting their files: 2018-01-06 to 2018-01-07"
    assert second.exit_code == 0
    assert second.stdout == "caught up: 0 loaded, 0 failed; 2 awaiting their files: 2018-01-06 to 2018-01-07\n"
