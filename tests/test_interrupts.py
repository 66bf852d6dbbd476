"""Interrupts with the partition in flight made deterministic: the load waits until the signal is
sent. Every partition starts with rows, so "its previous rows are still there" is shown."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from children import PAUSED_RUNNER
from conftest import ctrl_c_reaches_the_child

DAYS = ["2018-01-01", "2018-01-02", "2018-01-03", "2018-01-04"]
RANGE = ("--start", DAYS[0], "--end", DAYS[-1])


def wait_for(predicate, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def changed(project, day: str) -> None:
    """A file changed since it was loaded: its partition is stale, and its new rows differ."""
    path = project.file(day)
    path.write_text(path.read_text().replace(f"{day},", f"{day.replace('-', '/')},"))


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
@pytest.mark.parametrize("chunk", ["1", "365"])
def test_an_interrupted_load_leaves_exact_states_and_the_previous_rows(project, tmp_path, stop, chunk):
    assert project.runner("backfill", *RANGE).exit_code == 0
    before = {day: project.rows(day) for day in DAYS}
    for day in DAYS[1:]:
        changed(project, day)
    ready, go = tmp_path / "ready", tmp_path / "go"
    # Per partition, 01 is done and 02 is in flight when the signal comes; in one chunk, 02 to 04 are.
    child = subprocess.Popen(
        [sys.executable, "-c", PAUSED_RUNNER, str(ready), str(go), "build_partitions", "--project-dir", str(project.root),
         "backfill", *RANGE, "--only", "stale", "--chunk-size", chunk],
        cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=ctrl_c_reaches_the_child,  # a shell that runs the tests in the background ignores SIGINT
    )
    wait_for(ready.exists)
    child.send_signal(stop)
    out, err = child.communicate(timeout=120)

    in_flight = DAYS[1:] if chunk == "365" else [DAYS[1]]
    statuses = project.status(*RANGE)
    if stop == signal.SIGKILL:
        assert child.returncode == -signal.SIGKILL
        message = "interrupted: the runner stopped while loading it (killed?); run it again"
    else:
        assert child.returncode == 130, err
        assert out.startswith("Interrupted: 0 loaded, 0 failed, 3 not run in "), out
        message = "invocation: interrupted by Ctrl-C or SIGTERM"
    assert {day: (statuses[day]["state"], statuses[day]["message"]) for day in in_flight} == dict.fromkeys(
        in_flight, ("failed", message))
    assert {day: statuses[day]["state"] for day in DAYS if day not in in_flight} == {
        day: "materialized" if day == DAYS[0] else "stale" for day in DAYS if day not in in_flight}
    assert {day: project.rows(day) for day in DAYS} == before  # nothing was replaced

    rerun = project.runner("backfill", *RANGE, "--json")
    assert rerun.exit_code == 0
    assert [p["partition_date"] for p in json.loads(rerun.stdout)["partitions"]] == DAYS[1:]
    assert {s["state"] for s in project.status(*RANGE).values()} == {"materialized"}
