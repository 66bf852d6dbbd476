"""What a user waiting at a terminal sees: the first line at once, before dbt starts, and a summary
whose time says what it includes."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys


def on_a_terminal(project, *args: str) -> list[str]:
    """`runner ARGS` with its output on a pseudo-terminal, as a user at a terminal runs it: its lines."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "runner", *args], cwd=project.root, stdin=subprocess.DEVNULL,
                               stdout=follower, stderr=follower)
    os.close(follower)
    written = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the command ended
            break
        if not chunk:
            break
        written += chunk
    os.close(leader)
    assert process.wait(timeout=300) == 0, written
    return [line for line in written.decode().replace("\r", "\n").splitlines() if line.strip()]


def test_on_a_terminal_the_first_line_says_what_will_load_before_anything_else(project):
    lines = on_a_terminal(project, "backfill", "--start", "2018-01-01", "--end", "2018-01-02")
    assert lines[0] == "loading 2 partitions, 2018-01-01 to 2018-01-02, in 1 dbt invocation (starting dbt)"
    summary = next(line for line in lines if line.startswith("2 loaded, 0 failed in "))
    assert summary.endswith("s in all, with dbt's start-up)"), summary


def test_the_summary_gives_the_loads_time_and_the_whole_commands(project):
    result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-02", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    assert 0 < summary["seconds"] <= summary["wall_seconds"]
    plain = project.runner("run", "2018-01-03")
    (line,) = [line for line in plain.output.splitlines() if line.startswith("1 loaded, 0 failed in ")]
    load, whole = (float(part.split("s")[0]) for part in line.removeprefix("1 loaded, 0 failed in ").split(" ("))
    assert load <= whole


def test_on_a_terminal_the_watcher_says_what_it_does_before_dbt_starts(project):
    lines = on_a_terminal(project, "watch", "--once")
    assert lines[0] == f"catching up on {project.source_dir}"
    assert lines[1:][-1].startswith("caught up: 5 loaded, 0 failed"), lines


def test_every_step_of_a_load_leaves_a_line_in_the_runner_log(project):
    path = project.file("2018-01-02")
    path.write_text(path.read_text().replace("2018-01-02,", "2018-01-02,x", 1))  # an unparseable number
    (project.root / "target" / "runner" / "runner.log").unlink(missing_ok=True)  # the template's parse
    result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03", "--chunk-size", "3")
    assert result.exit_code == 1, result.output
    log = (project.root / "target" / "runner" / "runner.log").read_text().splitlines()
    steps = [line.split(" ", 3)[3] for line in log]  # after the time and the PID
    assert steps[0] == "parsing the project" and steps[1].startswith("parsed in ")
    assert steps[2] == "loading 3 partitions, 2018-01-01 to 2018-01-03"
    assert steps[3] == "seeding" and steps[4].startswith("seeded in ")  # a new warehouse: its seeds first
    # The chunk fails, then is split until the bad day stands alone: every invocation is a line.
    assert steps[5] == "dbt build of 2018-01-01 to 2018-01-03 (3 partitions)"
    assert steps[6].startswith("failed 2018-01-01 to 2018-01-03 in ") or steps[6] == "dbt build of 2018-01-01"
    assert any(step.startswith("failed 2018-01-02 in ") and "unparseable number" in step for step in steps)
    assert any(step.startswith("loaded 2018-01-03 in ") for step in steps)
    assert steps[-1].startswith("done: 2 loaded, 1 failed in ")
    assert all(line.split(" ")[1:3] == ["pid", line.split(" ")[2]] and line.split(" ")[2].isdigit() for line in log)
