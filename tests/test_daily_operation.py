"""Running every day: files not yet arrived, the open end on a pinned clock, the latest day, a
backfill with nothing to do that never starts dbt, and the recipes of docs/operations.md for cron, systemd,
Airflow and Dagster as written."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import types
from datetime import date
from pathlib import Path

import pytest
from conftest import STATUS_REPORTING_IMPORTS
from documents import documentation

from bench.sample_data import write_days

RUNNER = str(Path(sys.executable).with_name("runner"))


def open_ended(project, **extra) -> None:
    """dbt_project.yml without partitions_end_date, with these vars."""
    text = project.root.joinpath("dbt_project.yml").read_text()
    lines = [line for line in text.splitlines() if not line.strip().startswith("partitions_end_date")]
    at = next(index for index, line in enumerate(lines) if line.strip().startswith("partitions_start_date")) + 1
    lines[at:at] = [f"  {name}: {json.dumps(value)}" for name, value in extra.items()]
    project.root.joinpath("dbt_project.yml").write_text("\n".join(lines) + "\n")


def test_awaiting_missing_and_stale_are_told_apart(project, monkeypatch):
    monkeypatch.setenv("RUNNER_NOW", "2018-01-07T06:15:00Z")  # 2018-01-06 is due, not yet late
    assert project.runner("run", "2018-01-01").exit_code == 0
    project.file("2018-01-01").unlink()  # loaded, then its file went
    statuses = project.status("--start", "2018-01-01", "--end", "2018-01-06")
    assert {day: entry["state"] for day, entry in statuses.items()} == {
        "2018-01-01": "stale", "2018-01-02": "missing", "2018-01-03": "missing", "2018-01-04": "missing",
        "2018-01-05": "missing", "2018-01-06": "awaiting"}
    assert statuses["2018-01-01"]["message"] == "source file is gone since it was loaded (its rows are kept)"
    monkeypatch.setenv("RUNNER_NOW", "2018-01-08T06:15:00Z")  # 2018-01-06 is late now
    bar = project.runner("status", "--start", "2018-01-05", "--end", "2018-01-07")
    assert bar.exit_code == 0 and bar.stdout.splitlines()[0] == "·L_"


def test_a_backfill_skips_awaiting_days_without_running_dbt_for_them(project, monkeypatch):
    monkeypatch.setenv("RUNNER_NOW", "2018-01-09T06:15:00Z")  # due up to 2018-01-08, late up to 2018-01-07
    result = project.runner("backfill", "--start", "2018-01-04", "--end", "2018-01-09", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [p["partition_date"] for p in report["partitions"]] == ["2018-01-04", "2018-01-05"]
    assert report["summary"]["awaiting"] == {"count": 2, "first": "2018-01-08", "last": "2018-01-09",
                                             "dates": ["2018-01-08", "2018-01-09"]}
    assert report["summary"]["late"] == {"count": 2, "first": "2018-01-06", "last": "2018-01-07",
                                         "dates": ["2018-01-06", "2018-01-07"]}

    result = project.runner("backfill", "--start", "2018-01-04", "--end", "2018-01-09")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "Nothing to do: no partition from 2018-01-04 to 2018-01-09 is failed or missing or stale.",
        "2 awaiting their files (not run): 2018-01-08, 2018-01-09",
        "2 late: their files past the deadline (not run): 2018-01-06, 2018-01-07"]


def awaits(project, day: str) -> str:
    """`run`'s line on stderr for a day whose file has not arrived."""
    return f"{day}: no file at {project.file(day)} yet: the partition awaits it (nothing run)\n"


def test_awaiting_cannot_be_selected_and_a_day_without_a_file_is_one_line_and_no_failure(project):
    result = project.runner("backfill", "--only", "awaiting")
    assert result.exit_code == 2 and result.output.splitlines()[-1] == (
        "Error: Invalid value for '--only': awaiting partitions have no file to load yet: choose from materialized, failed, "
        "stale, missing or all")

    result = project.runner("run", "2018-01-09")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", awaits(project, "2018-01-09"))
    assert not project.warehouse.exists() and not project.ledger.exists()  # nothing run, nothing recorded


def test_run_latest_awaiting_exits_with_the_code_asked_and_says_so_in_json(project, monkeypatch):
    open_ended(project)
    monkeypatch.setenv("RUNNER_NOW", "2018-01-07T06:15:00Z")  # the latest partition, 2018-01-06, has no file

    skipped = project.runner("run", "latest", "--awaiting-exit-code", "99")
    assert (skipped.exit_code, skipped.stdout, skipped.stderr) == (99, "", awaits(project, "2018-01-06"))

    as_json = project.runner("run", "latest", "--json")
    assert (as_json.exit_code, as_json.stderr) == (0, awaits(project, "2018-01-06"))
    report = json.loads(as_json.stdout)
    summary = report["summary"]
    assert (summary["loaded"], summary["failed"], summary["not run"], report["partitions"]) == (0, 0, 0, [])
    assert (summary["awaiting"]["count"], summary["awaiting"]["first"], summary["awaiting"]["last"]) == (
        1, "2018-01-06", "2018-01-06")
    assert not project.ledger.exists()

    project.file("2018-01-06").write_text("quote_date,share_price\n2018-01-06,ten\n")  # there, but bad: a failure
    failed = project.runner("run", "latest", "--awaiting-exit-code", "99")
    assert failed.exit_code == 1 and failed.stdout.startswith("2018-01-06  failed  ")


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
    """The runner's arguments in each cron line of the documentation (docs/operations.md)."""
    return [shlex.split(line.split(".venv/bin/runner", 1)[1].split(">>", 1)[0])
            for line in documentation().splitlines() if line.startswith("15 6 * * *")]


def run_twice_at_dawn(project, monkeypatch, line: int, expected: list[str]):
    """The documented cron line number `line` (it must say `expected`), run twice as written on an open
    end, at 06:15 on 2018-01-08: partitions up to 2018-01-07, files up to 2018-01-05."""
    command = cron_commands()[line]
    assert command == expected
    open_ended(project)
    monkeypatch.setenv("RUNNER_NOW", "2018-01-08T06:15:00Z")
    return project.runner(*command), project.runner(*command)


def test_the_readmes_nightly_command_loads_what_arrived_and_then_has_nothing_to_do(project, monkeypatch):
    """The first documented cron line, run as written on an open end and a pinned clock."""
    first, second = run_twice_at_dawn(project, monkeypatch, 0, ["backfill", "--quiet"])

    assert first.exit_code == 0, first.output
    summary, awaiting, late = first.stdout.splitlines()[-3:]
    assert summary.startswith("5 loaded, 0 failed in ")
    assert awaiting == "1 awaiting its file (not run): 2018-01-07"
    assert late == "1 late: its file past the deadline (not run): 2018-01-06"
    assert second.exit_code == 0 and second.stdout.splitlines() == [
        "Nothing to do: no partition from 2018-01-01 to 2018-01-07 is failed or missing or stale.", awaiting, late]


def test_the_readmes_watch_once_cron_line_catches_up_and_sums_up(project, monkeypatch):
    """The second cron line (`runner watch --once`), run as written on an open end and a pinned clock."""
    first, second = run_twice_at_dawn(project, monkeypatch, 1, ["watch", "--once"])

    assert first.exit_code == 0, first.output
    assert [line.split()[:3] for line in first.stdout.splitlines()[:-1]] == [
        [f"2018-01-0{n}", "loaded", "20"] for n in range(1, 6)]
    assert first.stdout.splitlines()[-1] == "caught up: 5 loaded, 0 failed; 1 awaiting: 2018-01-07; 1 late: 2018-01-06"
    assert second.exit_code == 0
    assert second.stdout == "caught up: 0 loaded, 0 failed; 1 awaiting: 2018-01-07; 1 late: 2018-01-06\n"


# The recipes as written (docs/operations.md, "Running it every day"), for a project that is not /srv/daily_loads.

def readme_block(kind: str, containing: str) -> str:
    """The one ```kind block of the documentation that contains `containing`."""
    (block,) = [block for block in re.findall(rf"^```{kind}\n(.*?)^```$", documentation(),
                                              flags=re.MULTILINE | re.DOTALL) if containing in block]
    return block


def cron_lines() -> list[str]:
    """What each documented cron line hands to /bin/sh: the line without its five time fields."""
    return [line.split(None, 5)[5] for line in documentation().splitlines() if line.startswith("15 6 * * *")]


def here(recipe: str, project) -> str:
    """A recipe for the test's project: its folder for /srv/daily_loads, and these tests' runner for
    .venv/bin/runner (the copy has no venv of its own)."""
    recipe = re.sub(r"(?:/srv/daily_loads/)?\.venv/bin/runner", lambda _: RUNNER, recipe)
    return recipe.replace("/srv/daily_loads", str(project.root))


@pytest.mark.parametrize("line", [0, 1])
def test_the_readmes_cron_lines_run_as_written_in_a_fresh_clone(project, monkeypatch, line):
    """Each cron line's command, run by `sh -c` as cron runs it, twice, in a copy of the project with
    no logs/ folder (as a fresh clone has none), at 06:15 on 2018-01-08: both runs exit 0, print
    nothing outside the log, and append their output to logs/runner.log."""
    open_ended(project)
    monkeypatch.setenv("RUNNER_NOW", "2018-01-08T06:15:00Z")  # partitions up to 2018-01-07, files up to 2018-01-05
    assert not (project.root / "logs").exists()
    command = here(cron_lines()[line], project)
    for _ in range(2):
        done = subprocess.run(["sh", "-c", command], cwd=project.root.parent, capture_output=True, text=True, timeout=600)
        assert (done.returncode, done.stdout, done.stderr) == (0, "", "")

    log = (project.root / "logs" / "runner.log").read_text().splitlines()
    if line == 0:  # backfill --quiet: its summary, then nothing to do; the days without files said both times
        nothing = log.index("Nothing to do: no partition from 2018-01-01 to 2018-01-07 is failed or missing or stale.")
        first, second = log[:nothing], log[nothing:]
        assert first[0].startswith("5 loaded, 0 failed in ")
        assert first[1:] == second[1:] and "2018-01-07" in "\n".join(first[1:])
    else:  # watch --once: a line per load and the catch-up's summary, then the summary alone
        assert [entry.split()[:3] for entry in log[:5]] == [[f"2018-01-0{n}", "loaded", "20"] for n in range(1, 6)]
        first, second = (entry.split("; ", 1) for entry in log[5:])
        assert (first[0], second[0]) == ("caught up: 5 loaded, 0 failed", "caught up: 0 loaded, 0 failed")
        assert first[1] == second[1] and "2018-01-07" in first[1]  # the days without files, both times


def readme_units() -> dict[str, str]:
    """The documented systemd units by file name, each starting at its `# /etc/systemd/system/NAME` comment."""
    units: dict[str, list[str]] = {}
    for line in readme_block("ini", "[Service]").splitlines():
        named = re.match(r"# /etc/systemd/system/([\w.-]+)", line)
        if named:
            units[named[1]] = []
        elif line.strip():
            units[list(units)[-1]].append(line)
    return {name: "\n".join(lines) + "\n" for name, lines in units.items()}


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed (Debian's systemd package)")
def test_the_readmes_systemd_units_verify(project, tmp_path):
    """`systemd-analyze verify` passes the documented service, timer and watcher service as written,
    pointed at the test's project (it checks every setting and that ExecStart's program exists)."""
    units = readme_units()
    assert sorted(units) == ["daily-loads-watch.service", "daily-loads.service", "daily-loads.timer"]
    folder = tmp_path / "units"
    folder.mkdir()
    for name, text in units.items():
        (folder / name).write_text(here(text, project))
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", *(str(folder / name) for name in sorted(units))],
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_the_readmes_airflow_command_is_skipped_until_the_file_arrives(project, monkeypatch):
    """The documented BashOperator command, run by bash as Airflow runs it: exit 99 (what Airflow's
    skip_on_exit_code, left at its default, shows as skipped) while the latest day's file has not
    arrived, then 0 once it has, with the day loaded."""
    bash_command = re.search(r'bash_command="([^"]+)"', readme_block("python", "BashOperator"))[1]
    assert "skip_on_exit_code" not in readme_block("python", "BashOperator")  # its default, 99, applies
    open_ended(project)
    monkeypatch.setenv("RUNNER_NOW", "2018-01-07T06:15:00Z")  # the latest partition: 2018-01-06

    waiting = subprocess.run(["bash", "-c", here(bash_command, project)], capture_output=True, text=True, timeout=600)
    assert (waiting.returncode, waiting.stdout, waiting.stderr) == (99, "", awaits(project, "2018-01-06"))

    write_days(project.source_dir, date(2018, 1, 6), days=1, rows=20)
    loaded = subprocess.run(["bash", "-c", here(bash_command, project)], capture_output=True, text=True, timeout=600)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert loaded.stdout.startswith("2018-01-06  loaded  20 rows")


def test_the_readmes_dagster_op_reads_awaiting_then_loaded(project, monkeypatch):
    """The documented Dagster op as written, with a stand-in for the few names it takes from dagster:
    while the latest day's file has not arrived, it logs the runner's line and its output says 1
    awaiting, 0 loaded; once the file is there, 1 loaded."""
    stand_in = types.ModuleType("dagster")
    stand_in.op = lambda function: function
    stand_in.OpExecutionContext = object
    stand_in.Output = lambda value, metadata: (value, metadata)
    monkeypatch.setitem(sys.modules, "dagster", stand_in)
    names: dict = {}
    exec(here(readme_block("python", "import dagster"), project), names)  # the documentation's own code
    logged: list[str] = []
    context = types.SimpleNamespace(log=types.SimpleNamespace(info=logged.append))
    open_ended(project)
    monkeypatch.setenv("RUNNER_NOW", "2018-01-07T06:15:00Z")  # the latest partition: 2018-01-06

    summary, metadata = names["load_latest"](context)
    assert metadata == {"loaded": 0, "awaiting": 1} and summary["awaiting"]["first"] == "2018-01-06"
    assert logged == [awaits(project, "2018-01-06").strip()]

    write_days(project.source_dir, date(2018, 1, 6), days=1, rows=20)
    assert names["load_latest"](context)[1] == {"loaded": 1, "awaiting": 0}
