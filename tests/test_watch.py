"""`runner watch`: a real watcher process on a real folder, real dbt and DuckDB. The tests wait on
its own report lines (one JSON object per event, read as they come), never on fixed sleeps."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pytest
from children import PAUSED_RUNNER
from conftest import ctrl_c_reaches_the_child
from test_interrupts import wait_for

from bench.sample_data import write_days
from runner.arrivals import Arrivals

TIMEOUT = 120.0  # seconds: only a broken watcher ever waits this long


class Watching:
    """A `runner watch --json` process and the events it prints, in order."""

    def __init__(self, project, *args: str, script: list[str] | None = None):
        command = script or ["-m", "runner"]
        self.process = subprocess.Popen(
            [sys.executable, *command, "--project-dir", str(project.root), "watch", "--json", *args],
            cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=ctrl_c_reaches_the_child,
        )
        self.events: list[dict] = []
        self._lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self._lines.put(json.loads(line))
        self._lines.put(None)

    def until(self, kind: str, **expected) -> dict:
        """The next event of this kind (and these fields); every event before it is kept in .events."""
        while True:
            event = self._lines.get(timeout=TIMEOUT)
            assert event is not None, f"the watcher ended before a {kind} event: {self.finish()}"
            self.events.append(event)
            if event["event"] == kind and all(event.get(key) == value for key, value in expected.items()):
                return event

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Send the signal; the exit code, once every event the watcher printed is in .events."""
        self.process.send_signal(signum)
        code = self.process.wait(timeout=TIMEOUT)
        while (event := self._lines.get(timeout=TIMEOUT)) is not None:
            self.events.append(event)
        return code

    def finish(self) -> str:
        self.process.kill()
        return self.process.communicate(timeout=TIMEOUT)[1]

    def loads(self, day: str | None = None) -> list[dict]:
        return [e for e in self.events if e["event"] == "load" and (day is None or e["partition_date"] == day)]


@pytest.fixture
def watching(project):
    """Start watchers on the project; each is killed at the end of the test whatever happened."""
    started: list[Watching] = []

    def start(*args: str, **kwargs) -> Watching:
        started.append(Watching(project, *args, **kwargs))
        return started[-1]

    yield start
    for watcher in started:
        if watcher.process.poll() is None:
            watcher.finish()


def staged(tmp_path: Path, day: str, rows: int = 20, seed: int = 7) -> Path:
    """A complete daily file written outside the source folder, to be renamed into place."""
    folder = tmp_path / f"stage-{day}-{rows}-{seed}"
    return write_days(folder, date.fromisoformat(day), days=1, rows=rows, seed=seed)[0]


def land(project, *files: Path) -> None:
    """Rename complete files into the source folder, as careful writers (rsync, mv) deliver them."""
    for path in files:
        os.rename(path, project.source_dir / path.name)


def ledger_runs(project, day: str) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(project.ledger), read_only=True) as connection:
        return connection.execute(
            "select invocation_id, status from partition_runs where partition_date = ? and unique_id like 'model.%raw_partition_data'",
            [day]).fetchall()


def test_it_catches_up_first_then_loads_a_file_renamed_into_place(project, watching, tmp_path):
    watcher = watching("--settle", "30")  # a renamed file does not wait for the settle interval
    watcher.until("watching")
    assert sorted(e["partition_date"] for e in watcher.loads()) == [f"2018-01-0{n}" for n in range(1, 6)]
    land(project, staged(tmp_path, "2018-01-06", rows=7))
    loaded = watcher.until("load", partition_date="2018-01-06")
    assert (loaded["outcome"], loaded["rows"]) == ("loaded", 7)
    assert project.status()["2018-01-06"]["state"] == "materialized"
    assert watcher.stop() == 0
    assert watcher.events[-1]["event"] == "stopped"


def test_polling_instead_of_events_loads_a_new_file(project, watching, tmp_path):
    """--poll: where no file events arrive (network folders), the folder is looked at instead."""
    watcher = watching("--poll", "0.1")
    assert watcher.until("watching")["poll"] == 0.1
    land(project, staged(tmp_path, "2018-01-06", rows=5))
    assert watcher.until("load", partition_date="2018-01-06")["rows"] == 5
    assert watcher.stop() == 0


def test_a_file_written_slowly_in_parts_is_loaded_once_and_whole(project, watching, tmp_path):
    # The settle interval is long enough for the two appends below to come within it on a busy machine.
    watcher = watching("--settle", "1")
    watcher.until("watching")
    lines = staged(tmp_path, "2018-01-06", rows=30).read_text().splitlines(keepends=True)
    path = project.source_dir / "2018-01-06.csv"
    with open(path, "w") as writer:  # the writer holds it open: never loaded meanwhile, however long it pauses
        for start in range(0, len(lines), 10):
            writer.writelines(lines[start:start + 10])
            writer.flush()
            # Longer than the settle interval, so only the open writer keeps the file from loading.
            threading.Event().wait(1.5)
    loaded = watcher.until("load", partition_date="2018-01-06")
    assert (loaded["outcome"], loaded["rows"]) == ("loaded", 30)
    with open(path, "a") as writer:  # appended in two more goes, each closing the file
        writer.write(lines[1])
    with open(path, "a") as writer:
        writer.write(lines[2])
    again = watcher.until("load", partition_date="2018-01-06")
    assert (again["outcome"], again["rows"]) == ("loaded", 32)
    assert watcher.stop() == 0
    assert [e["rows"] for e in watcher.loads("2018-01-06")] == [30, 32]
    assert len(ledger_runs(project, "2018-01-06")) == 2


def test_files_landing_together_load_in_one_chunk(project, watching, tmp_path):
    watcher = watching()
    watcher.until("watching")
    land(project, *(staged(tmp_path, f"2018-01-{n:02}") for n in (7, 8, 9)))
    for day in ("2018-01-07", "2018-01-08", "2018-01-09"):
        watcher.until("load", partition_date=day)
    assert watcher.stop() == 0
    assert len({e["invocation_id"] for e in watcher.loads() if e["partition_date"] >= "2018-01-07"}) == 1


def test_a_bad_file_fails_and_the_next_good_file_still_loads(project, watching, tmp_path):
    watcher = watching()
    watcher.until("watching")
    bad = tmp_path / "2018-01-06.csv"
    bad.write_text("date,price\n2018-01-06,1\n")
    land(project, bad)
    failed = watcher.until("load", partition_date="2018-01-06")
    assert failed["outcome"] == "failed" and "bad header in" in failed["message"]
    land(project, staged(tmp_path, "2018-01-07"))
    assert watcher.until("load", partition_date="2018-01-07")["outcome"] == "loaded"
    statuses = project.status()
    assert (statuses["2018-01-06"]["state"], statuses["2018-01-07"]["state"]) == ("failed", "materialized")
    assert watcher.stop() == 0


def test_a_changed_file_is_reloaded_and_an_untouched_one_is_not(project, watching, tmp_path):
    watcher = watching()
    watcher.until("watching")
    land(project, staged(tmp_path, "2018-01-02", rows=9, seed=3))  # replaces the loaded file
    assert watcher.until("load", partition_date="2018-01-02")["rows"] == 9
    assert len(project.rows("2018-01-02")) == 9
    same = tmp_path / "copy.csv"
    same.write_bytes(project.file("2018-01-03").read_bytes())
    os.rename(same, project.file("2018-01-03"))  # the same bytes again: nothing to load
    skipped = watcher.until("skipped", partition_date="2018-01-03")
    assert skipped["state"] == "materialized"
    assert watcher.stop() == 0
    assert len(watcher.loads("2018-01-03")) == 1  # the catch-up's, not another


def test_deleted_and_foreign_files_are_reported_and_nothing_else_happens(project, watching, tmp_path):
    watcher = watching()
    watcher.until("watching")
    project.file("2018-01-02").unlink()
    assert watcher.until("deleted")["partition_date"] == "2018-01-02"
    (project.source_dir / "notes.txt").write_text("not a daily file\n")
    assert watcher.until("ignored")["path"].endswith("notes.txt")
    land(project, staged(tmp_path, "2019-03-01"))  # outside the defined partitions (to 2018-01-31)
    assert "outside the defined partitions" in watcher.until("ignored")["message"]
    assert watcher.stop() == 0
    assert [e for e in watcher.events if e["event"] == "load" and e["partition_date"] > "2018-01-05"] == []
    assert project.status()["2018-01-02"]["state"] == "stale"


def test_a_load_that_meets_a_locked_warehouse_is_tried_again_later(project, watching, tmp_path):
    """Another process holds the warehouse (a backfill, a hand dbt run): the watcher says so, keeps
    watching, and loads the file once the warehouse is free, though the file never changes again."""
    import duckdb

    assert project.runner("backfill").exit_code == 0
    watcher = watching("--retries", "0", "--retry-after", "0.5")
    watcher.until("watching")
    holder = duckdb.connect(str(project.warehouse))
    try:
        land(project, staged(tmp_path, "2018-01-06", rows=6))
        refused = watcher.until("error")
        assert "lock" in refused["message"].lower() and "tried again in 0.5s" in refused["message"]
    finally:
        holder.close()
    loaded = watcher.until("load", partition_date="2018-01-06", outcome="loaded")
    assert loaded["rows"] == 6
    assert watcher.stop() == 0


def test_a_load_that_fails_on_a_lock_is_loaded_after_retry_after_once_the_lock_is_gone(project, watching, tmp_path):
    """The load itself (not the seeds) meets the lock: another process takes the warehouse while
    the load waits at its build. It fails, and with --retries 0 only --retry-after tries it again,
    though its file never changes again."""
    assert project.runner("backfill").exit_code == 0  # seeds loaded: nothing but the build opens the warehouse
    ready, go = tmp_path / "ready", tmp_path / "go"
    watcher = watching("--retries", "0", "--retry-after", "0.5", script=["-c", PAUSED_RUNNER, str(ready), str(go),
                                                                         "build_partitions"])
    watcher.until("watching")
    land(project, staged(tmp_path, "2018-01-06", rows=6))
    wait_for(ready.exists)  # the load is in flight, before dbt opens the warehouse
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); sys.stdin.read()",
         str(project.warehouse)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "ready\n"
        go.touch()
        failed = watcher.until("load", partition_date="2018-01-06", outcome="failed")
        assert "Conflicting lock" in failed["message"] and f"PID {holder.pid}" in failed["message"], failed
        assert failed["attempts"] == 1
    finally:
        holder.communicate("")  # the lock is gone
    loaded = watcher.until("load", partition_date="2018-01-06", outcome="loaded")
    assert loaded["rows"] == 6
    assert watcher.stop() == 0
    assert not [event for event in watcher.events if event["event"] == "error"]  # the load was retried, not the seeds
    assert project.rows("2018-01-06") != [] and project.status()["2018-01-06"]["state"] == "materialized"


def test_a_watcher_whose_source_folder_goes_away_says_so_and_exits_1(project, watching):
    watcher = watching()
    watcher.until("watching")
    for path in project.source_dir.iterdir():
        path.unlink()
    project.source_dir.rmdir()
    assert watcher.until("error")["message"] == f"the source folder {project.source_dir} is gone: stopped watching"
    assert watcher.process.wait(timeout=TIMEOUT) == 1


def test_a_second_watcher_on_the_same_warehouse_exits_2_naming_the_first(project, watching):
    first = watching()
    first.until("watching")
    second = subprocess.run([sys.executable, "-m", "runner", "--project-dir", str(project.root), "watch"],
                            cwd=project.root, capture_output=True, text=True, timeout=TIMEOUT)
    assert second.returncode == 2
    assert f"another runner watch (PID {first.process.pid}) is watching this warehouse" in second.stderr
    assert first.stop() == 0


def test_watch_once_defers_to_a_running_watcher_and_does_nothing(project, watching):
    """A nightly `watch --once` (the README's timer) beside a running watcher: exit 0, one line naming
    the watcher, and no catch-up of its own (no load, no caught_up event, no ledger row)."""
    first = watching()
    first.until("watching")
    recorded = project.ledger.stat().st_mtime_ns
    once = [sys.executable, "-m", "runner", "--project-dir", str(project.root), "watch", "--once"]

    plain = subprocess.run(once, cwd=project.root, capture_output=True, text=True, timeout=TIMEOUT)
    as_json = subprocess.run([*once, "--json"], cwd=project.root, capture_output=True, text=True, timeout=TIMEOUT)

    said = f"runner watch (PID {first.process.pid}) is loading this warehouse's files; nothing done"
    assert (plain.returncode, plain.stdout, plain.stderr) == (0, "", f"deferred: {said}\n")
    assert (as_json.returncode, as_json.stderr) == (0, "")
    assert json.loads(as_json.stdout) == {"event": "deferred", "pid": first.process.pid, "message": said}
    assert project.ledger.stat().st_mtime_ns == recorded
    assert first.stop() == 0


def test_a_code_change_is_parsed_before_the_next_load(project, watching, tmp_path):
    watcher = watching()
    watcher.until("watching")
    model = project.root / "models" / "marts" / "daily_summary.sql"
    code = model.read_text()
    model.write_text(code.replace("holidays.holiday_name,", "coalesce(holidays.holiday_name, 'edited') as holiday_name,"))
    land(project, staged(tmp_path, "2018-01-06"))
    assert watcher.until("load", partition_date="2018-01-06")["outcome"] == "loaded"
    assert watcher.stop() == 0
    assert project.query("select holiday_name from daily_summary where partition_date = '2018-01-06'") == [("edited",)]
    assert project.status()["2018-01-06"]["state"] == "materialized"  # loaded with the code as it is now


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_a_load_exits_130_and_records_it_interrupted(project, watching, tmp_path, stop):
    assert project.runner("backfill").exit_code == 0  # nothing to catch up: the first build is the new file's
    before = project.rows("2018-01-02")
    ready, go = tmp_path / "ready", tmp_path / "go"
    watcher = watching(script=["-c", PAUSED_RUNNER, str(ready), str(go), "build_partitions"])
    watcher.until("watching")
    land(project, staged(tmp_path, "2018-01-02", rows=3, seed=5))
    wait_for(ready.exists)  # the load is in flight, holding at the build, until the signal
    assert watcher.stop(stop) == 130
    statuses = project.status()
    assert (statuses["2018-01-02"]["state"], statuses["2018-01-02"]["message"]) == (
        "failed", "invocation: interrupted by Ctrl-C or SIGTERM")
    assert project.rows("2018-01-02") == before


def test_a_signal_as_a_load_is_reported_stops_the_watcher_with_exit_0(project, watching, tmp_path):
    """The load is recorded, nothing is in flight: the stop is between loads, and it is not lost."""
    assert project.runner("backfill").exit_code == 0
    ready, go = tmp_path / "ready", tmp_path / "go"
    watcher = watching(script=["-c", PAUSED_RUNNER, str(ready), str(go), "runner.watching:Watcher.report_outcome"])
    watcher.until("watching")
    land(project, staged(tmp_path, "2018-01-06", rows=4))
    wait_for(ready.exists)
    assert watcher.stop() == 0
    assert watcher.events[-1]["event"] == "stopped"  # the signal came before its line: none is printed
    assert project.status()["2018-01-06"]["state"] == "materialized"


def test_once_catches_up_and_exits_with_backfills_codes(project, tmp_path):
    once = project.runner("watch", "--once")
    assert once.exit_code == 0, once.output
    assert [line.split()[:2] for line in once.stdout.splitlines()[:-1]] == [[f"2018-01-0{n}", "loaded"] for n in range(1, 6)]
    assert project.runner("watch", "--once").exit_code == 0  # nothing to do
    bad = project.source_dir / "2018-01-06.csv"
    bad.write_text("")
    failed = project.runner("watch", "--once", "--json")
    assert failed.exit_code == 1
    events = [json.loads(line) for line in failed.stdout.splitlines()]
    assert [(e["partition_date"], e["outcome"]) for e in events if e["event"] == "load"] == [("2018-01-06", "failed")]
    assert (events[-1]["event"], events[-1]["failed"]) == ("caught_up", 1)


ARRIVALS = [
    # (what happens, seconds later, complete then?)
    ("renamed into place", [("rename", 0.0, True)]),
    ("written, then unchanged for the settle interval", [("write", 0.0, False), ("look", 1.0, False), ("look", 2.0, True)]),
    ("written again before it settled", [("write", 0.0, False), ("write", 1.5, False), ("look", 3.0, False),
                                         ("look", 3.5, True)]),
    ("renamed, then written (still arriving)", [("rename+write", 0.0, False), ("look", 1.0, False), ("look", 2.0, True)]),
    ("renamed but held open for writing", [("rename", 0.0, False, True), ("look", 5.0, False, True), ("look", 6.0, True)]),
    ("renamed empty", [("rename-empty", 0.0, False), ("look", 2.0, True)]),
]


@pytest.mark.parametrize("steps", [steps for _, steps in ARRIVALS], ids=[name for name, _ in ARRIVALS])
def test_when_a_file_is_complete(steps):
    """The settle rule alone, on a pinned clock: a table of arrivals and when each is complete."""
    clock, size, version, held = [0.0], [10], [0], [False]
    path = Path("/source/2018-01-06.csv")
    arrivals = Arrivals(settle=2.0, clock=lambda: clock[0], look=lambda p: (size[0], version[0], 1),
                        held=lambda p: held[0])
    for action, at, complete, *holding in steps:
        clock[0] = at
        held[0] = bool(holding and holding[0])
        if action == "rename-empty":
            size[0] = 0
        if action.startswith("rename"):
            arrivals.saw(path, renamed=True)
        if action.endswith("write"):
            version[0] += 1
            size[0] += 5
            if action == "write":
                arrivals.saw(path, renamed=False)
        assert (arrivals.complete() == [path]) is complete, (action, at)


@pytest.mark.parametrize("args, message", [
    (["--settle", "-1"], "Invalid value for '--settle'"),
    (["--poll", "0"], "Invalid value for '--poll'"),
    (["--source-dir", "missing-folder"], "--source-dir missing-folder: not an existing directory"),
])
def test_bad_watch_options_are_usage_errors(project, args, message):
    result = project.runner("watch", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_a_missing_source_folder_is_a_usage_error_for_the_watcher(project):
    for path in project.source_dir.iterdir():
        path.unlink()
    project.source_dir.rmdir()
    result = project.runner("watch")
    assert result.exit_code == 2
    assert f"the source folder {project.source_dir} does not exist: create it, or give --source-dir" in result.output
