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
