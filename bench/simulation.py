"""Weeks of unattended operation, simulated night by night and judged by an oracle.

A seeded world advances `RUNNER_NOW` one day at a time over a copy of the project with an open end.
Each day's file arrives on time, late, early (before its day closes, for the watcher), never,
twice (corrected), bad then fixed, still being copied when the nightly job starts, or is deleted
after it was loaded. The nightly job (`runner backfill --json`) runs at 06:15, or is skipped, or is
killed while a load is in flight; hand `dbt build`s happen now and then, some against another
warehouse; a watcher loads early files when their day closes, and is checked to have done so.

After every night the oracle, which parses the files with Python's `csv` and `decimal` and shares no
code with the product, says what each partition must be: the warehouse's rows must equal the
file's exactly, `runner status --json` must give each partition the state the oracle expects, and
the nightly's exit code must be 1 exactly when a bad file was there to fail.

`python -m bench.simulation --days 300 --seeds 11 12 13` (make soak) runs it long; the test suite runs
a short one (tests/test_simulation.py).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROJECT_FILES = ["dbt_project.yml", "selectors.yml", "profiles.yml", "models", "macros", "seeds", "data-tests"]
HEADER = ["date", "share_price", "amount", "spend", "shift", "spread"]
# The file's columns as the warehouse names them.
AS_LOADED = {"date": "quote_date", "spend": "open_price", "shift": "high_price", "spread": "low_price",
             "share_price": "close_price", "amount": "volume"}
WAREHOUSE_COLUMNS = ["quote_date", "open_price", "high_price", "low_price", "close_price", "volume"]
NIGHTLY = timedelta(hours=6, minutes=15)
LATE_AFTER = timedelta(hours=24)  # the project's partitions_late_after
# How each day's file behaves, with its weight.
KINDS = {"on_time": 55, "late": 10, "early": 8, "never": 3, "corrected": 8, "bad_then_fixed": 6, "copying": 6,
         "deleted": 4}
# What can happen to a nightly job, with its weight.
NIGHTS = {"run": 92, "skipped": 4, "killed": 4}
HAND_RUN_CHANCE = 0.05
# A runner whose load stops, in flight, once dbt has built its first chunk: the simulation kills it there.
PAUSED = """
import pathlib, sys, time
from runner import warehouse
from runner.cli import main
ready = pathlib.Path(sys.argv[1])
measure = warehouse.measure
def paused(*args):
    ready.touch()
    time.sleep(3600)  # until killed
    return measure(*args)
warehouse.measure = paused
sys.argv = ["runner", *sys.argv[2:]]
main()
"""


class Mismatch(AssertionError):
    """The product and the oracle disagree."""


# The oracle: the files as plain Python reads them.

def expected_rows(text: str) -> Counter | None:
    """The rows a file must load, as (quote_date, open, high, low, close, volume); None when it is bad."""
    reader = csv.DictReader(io.StringIO(text))
    names = [name.strip().lower() for name in reader.fieldnames or []]
    if sorted(names) != sorted(HEADER):
        return None
    rows = Counter()
    for raw in reader:
        values = {name.strip().lower(): value.strip() for name, value in raw.items()}
        try:
            numbers = {AS_LOADED[name]: Decimal(values[name]) for name in HEADER if name != "date"}
        except ArithmeticError:
            return None
        quoted = date.fromisoformat(values["date"].replace("/", "-"))
        rows[(quoted, *(numbers[column] for column in WAREHOUSE_COLUMNS[1:]))] += 1
    return rows


# The world: files written as their writers would.

def daily_file(rng: random.Random, day: date, rows: int, bad: bool = False) -> str:
    """A day's quotes, in a column order and date format of the writer's choosing."""
    order = HEADER[:]
    rng.shuffle(order)
    names = [name.upper() if rng.random() < 0.2 else name for name in order]
    lines = [",".join(names)]
    for row in range(rows):
        close = Decimal(rng.randint(1000, 900000)) / 100
        open_ = Decimal(rng.randint(1000, 900000)) / 100
        values = {
            "date": day.isoformat().replace("-", "/") if rng.random() < 0.3 else day.isoformat(),
            "share_price": f"{close}", "spend": f"{open_}",
            "shift": f"{max(close, open_) + Decimal(rng.randint(0, 500)) / 100}",
            "spread": f"{max(Decimal('0.01'), min(close, open_) - Decimal(rng.randint(0, 500)) / 100)}",
            "amount": f"{rng.randint(1, 10**9)}.{rng.randint(0, 9999):04d}",
        }
        if bad and row == rows // 2:
            values["share_price"] = "n/a"
        lines.append(",".join(values[name] for name in order))
    return "\n".join(lines) + "\n"


@dataclass
class Event:
    at: datetime
    day: date
    action: str  # write, rewrite, bad, fix, start_copy, end_copy, delete, early
    text: str = ""


@dataclass
class Night:
    number: int
    at: datetime
    outcome: str
    exit_code: int | None = None
    loaded: int = 0
    checked: bool = False


@dataclass
class World:
    root: Path
    seed: int
    start: date
    days: int
    rng: random.Random = field(init=False)
    events: list[Event] = field(default_factory=list)
    copying: dict[date, object] = field(default_factory=dict)  # open handles of files being written
    loaded: dict[date, Counter] = field(default_factory=dict)  # what the warehouse must hold, per day
    nights: list[Night] = field(default_factory=list)
    kinds: Counter = field(default_factory=Counter)
    hand_runs: Counter = field(default_factory=Counter)
    hand_invocations: dict[str, str] = field(default_factory=dict)  # invocation id: the warehouse it ran on
    early: set[date] = field(default_factory=set)  # days whose file lands before the day closes

    stories: list[str] | None = None  # each day's kind, in order, instead of drawn ones

    def __post_init__(self):
        self.rng = random.Random(self.seed)
        self.source = self.root / "data" / "source"
        self.warehouse = self.root / "data" / "warehouse.duckdb"
        self.other_warehouse = self.root / "sandbox" / "warehouse.duckdb"
        for n in range(self.days):
            self.plan(self.start + timedelta(days=n), self.stories[n] if self.stories else None)
        self.events.sort(key=lambda event: event.at)

    def plan(self, day: date, kind: str | None = None) -> None:
        """The day's file's story, as events in time."""
        kind = kind or self.rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
        self.kinds[kind] += 1
        closes = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
        rows = self.rng.randint(3, 12)
        text = daily_file(self.rng, day, rows)
        later = closes + timedelta(days=self.rng.randint(1, 3), hours=1)
        add = self.events.append
        if kind in ("on_time", "corrected", "deleted"):
            add(Event(closes + timedelta(hours=1), day, "write", text))
        if kind == "corrected":
            add(Event(later, day, "write", daily_file(self.rng, day, rows + self.rng.choice((-1, 0, 1)))))
        if kind == "deleted":
            add(Event(later, day, "delete"))
        if kind == "late":
            add(Event(later, day, "write", text))
        if kind == "early":
            add(Event(closes - timedelta(hours=4), day, "early", text))
            self.early.add(day)
        if kind == "bad_then_fixed":
            add(Event(closes + timedelta(hours=1), day, "write", daily_file(self.rng, day, rows, bad=True)))
            add(Event(later, day, "write", text))
        if kind == "copying":  # under way when the nightly job starts, done a minute after
            add(Event(closes + NIGHTLY - timedelta(minutes=1), day, "start_copy", text))
            add(Event(closes + NIGHTLY + timedelta(minutes=1), day, "end_copy", text))

    # Files

    def path(self, day: date) -> Path:
        return self.source / f"{day.isoformat()}.csv"

    def write(self, day: date, text: str) -> None:
        """A whole file, renamed into place as careful writers do, dated a minute ago (settled)."""
        staged = self.source / f".{day.isoformat()}.csv.part"
        staged.write_text(text)
        past = time.time() - 60
        os.utime(staged, (past, past))
        os.replace(staged, self.path(day))

    def apply(self, event: Event, watcher) -> None:
        if event.action == "write":
            self.write(event.day, event.text)
        elif event.action == "delete":
            self.path(event.day).unlink(missing_ok=True)
        elif event.action == "early":
            self.write(event.day, event.text)
            watcher.saw({(1, str(self.path(event.day)))})
        elif event.action == "start_copy":
            handle = open(self.path(event.day), "w")
            handle.write(event.text[: len(event.text) // 2])  # half: cut mid-row, or at a row's end
            handle.flush()
            self.copying[event.day] = handle
        elif event.action == "end_copy":
            handle = self.copying.pop(event.day)
            handle.write(event.text[len(event.text) // 2:])
            handle.close()
            past = time.time() - 60
            os.utime(self.path(event.day), (past, past))

    # The oracle

    def file_now(self, day: date) -> tuple[str, Counter | None]:
        """absent, copying, bad or good, with the rows a good file must load."""
        if day in self.copying:
            return "copying", None
        if not self.path(day).is_file():
            return "absent", None
        rows = expected_rows(self.path(day).read_text())
        return ("good", rows) if rows is not None else ("bad", None)

    def expected_state(self, day: date, now: datetime) -> str:
        found, rows = self.file_now(day)
        if found == "good":
            return "materialized"
        if found == "bad":
            return "failed"
        if day in self.loaded:  # loaded once; its file is gone or being written again: its rows stay
            return "stale"
        closes = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
        return "late" if now >= closes + LATE_AFTER else "awaiting"


def copy_project(root: Path, start: date) -> None:
    """The project with an open end from `start`, and no files yet."""
    root.mkdir(parents=True)
    for name in PROJECT_FILES:
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    path = root / "dbt_project.yml"
    lines = [line for line in path.read_text().splitlines() if not line.strip().startswith("partitions_end_date")]
    text = "\n".join(lines).replace('partitions_start_date: "2018-01-01"', f'partitions_start_date: "{start.isoformat()}"')
    path.write_text(text + "\n")
    (root / "data" / "source").mkdir(parents=True)
    (root / "sandbox").mkdir()


class Simulation:
    """The world, the runner in this process (the nightly job, the watcher), and the oracle."""

    def __init__(self, root: Path, seed: int, days: int, start: date = date(2024, 3, 1), stories: list[str] | None = None,
                 nights: list[str] | None = None):
        copy_project(root, start)
        self.world = World(root, seed, start, days, stories=stories)
        self.outcomes = nights  # each night's outcome, in order, instead of drawn ones
        self.python = sys.executable
        self.dbt = str(Path(sys.executable).with_name("dbt"))

    def runner(self, now: datetime, *args: str):
        from click.testing import CliRunner

        from runner.cli import cli

        env = {"RUNNER_NOW": now.isoformat().replace("+00:00", "Z"), "WAREHOUSE_PATH": None, "LEDGER_PATH": None,
               "DBT_TARGET": None}
        return CliRunner().invoke(cli, ["--project-dir", str(self.world.root), *args], env=env, catch_exceptions=False)

    def run(self) -> list[Night]:
        from runner.backfills import LoadSettings
        from runner.dbt import Dbt, end_of_command
        from runner.project import load_project
        from runner.watching import Watcher, WatchSettings

        world = self.world
        os.environ["RUNNER_NOW"] = datetime.combine(world.start, datetime.min.time(), UTC).isoformat()
        try:
            watcher = Watcher(Dbt(load_project(str(world.root))), LoadSettings(), WatchSettings(settle=0), lambda event: None)
            pending = list(world.events)
            for number in range(1, world.days + 1):
                midnight = datetime.combine(world.start + timedelta(days=number), datetime.min.time(), UTC)
                # The day closes: the watcher loads the early files of the day just closed.
                self.happen(pending, midnight, watcher)
                os.environ["RUNNER_NOW"] = (midnight + timedelta(seconds=5)).isoformat()
                watcher.clock_looked -= 1.0  # its once-a-second look is due
                watcher.follow_clock()
                end_of_command()
                self.note_loaded(midnight)
                self.check_early(midnight.date() - timedelta(days=1))
                nightly = midnight + NIGHTLY
                self.happen(pending, nightly, watcher)
                self.night(number, nightly)
                if world.rng.random() < HAND_RUN_CHANCE:
                    self.hand_run(nightly)
        finally:
            os.environ.pop("RUNNER_NOW", None)
            for handle in world.copying.values():
                handle.close()
        return world.nights

    def happen(self, pending: list[Event], until: datetime, watcher) -> None:
        while pending and pending[0].at <= until:
            event = pending.pop(0)
            os.environ["RUNNER_NOW"] = event.at.isoformat()
            self.world.apply(event, watcher)

    def night(self, number: int, at: datetime) -> None:
        world = self.world
        outcome = self.outcomes[number - 1] if self.outcomes else world.rng.choices(list(NIGHTS), weights=list(NIGHTS.values()))[0]
        night = Night(number, at, outcome)
        world.nights.append(night)
        if outcome == "skipped":
            return
        if outcome == "killed":
            self.killed(at)
            return
        result = self.runner(at, "backfill", "--json")
        night.exit_code = result.exit_code
        report = json.loads(result.stdout)
        night.loaded = report["summary"]["loaded"]
        due = [world.start + timedelta(days=n) for n in range((at.date() - world.start).days)]
        bad_there = any(world.file_now(day)[0] == "bad" for day in due)
        if result.exit_code != (1 if bad_there else 0):
            raise Mismatch(f"night {number} ({at}): exit {result.exit_code}, expected {1 if bad_there else 0}: "
                           f"{result.stdout[-2000:]}")
        self.note_loaded(at)
        self.check(night, due)

    def killed(self, at: datetime) -> None:
        """The nightly job, killed while its first load is in flight (if it has one)."""
        ready = self.world.root / "sandbox" / "ready"
        ready.unlink(missing_ok=True)
        env = {**os.environ, "RUNNER_NOW": at.isoformat()}
        for name in ("WAREHOUSE_PATH", "LEDGER_PATH", "DBT_TARGET"):
            env.pop(name, None)
        process = subprocess.Popen([self.python, "-c", PAUSED, str(ready), "--project-dir", str(self.world.root),
                                    "backfill", "--quiet"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        while not ready.exists() and process.poll() is None:  # a load in flight, or nothing to load
            if time.monotonic() > deadline:
                process.kill()
                raise Mismatch("the nightly job to kill never started a load")
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def hand_run(self, at: datetime) -> None:
        """A hand `dbt build` of a due day, against the project's warehouse or a sandbox one."""
        world = self.world
        day = world.start + timedelta(days=world.rng.randrange((at.date() - world.start).days))
        sandbox = world.rng.random() < 0.5
        env = {**os.environ, "WAREHOUSE_PATH": str(world.other_warehouse if sandbox else world.warehouse)}
        env.pop("RUNNER_NOW", None)
        done = subprocess.run([self.dbt, "build", "--profiles-dir", ".", "--exclude-resource-type", "unit_test",
                               "--vars", f"{{partition_date: {day.isoformat()}}}"], cwd=world.root, env=env,
                              capture_output=True, text=True)
        world.hand_runs["sandbox" if sandbox else "warehouse"] += 1
        invocation = json.loads((world.root / "target" / "run_results.json").read_text())["metadata"]["invocation_id"]
        world.hand_invocations[invocation] = "sandbox" if sandbox else "warehouse"
        if done.returncode not in (0, 1):
            raise Mismatch(f"hand dbt build of {day} exited {done.returncode}: {done.stdout[-2000:]}")
        if not sandbox and done.returncode == 0:
            self.note_loaded(at)

    def note_loaded(self, at: datetime) -> None:
        """What the warehouse holds now, per day: the oracle's memory of what was loaded."""
        import duckdb

        if not self.world.warehouse.exists():
            return
        with duckdb.connect(str(self.world.warehouse), read_only=True) as connection:
            tables = {name for (name,) in connection.execute("select table_name from information_schema.tables").fetchall()}
            if "raw_partition_data" not in tables:
                return
            found = connection.execute(f"select partition_date, {', '.join(WAREHOUSE_COLUMNS)} from raw_partition_data").fetchall()
        held: dict[date, Counter] = {}
        for row in found:
            held.setdefault(row[0], Counter())[tuple(row[1:])] += 1
        self.world.loaded = held

    def check_early(self, closed: date) -> None:
        """A file that landed before its day closed is loaded by the watcher as the day closes."""
        world = self.world
        if closed in world.early and world.file_now(closed)[0] == "good":
            if world.loaded.get(closed) != world.file_now(closed)[1]:
                raise Mismatch(f"{closed}: its file landed early, and the watcher did not load it when its day closed")

    def check_hand_runs(self) -> None:
        """Each hand run is in the ledger of the warehouse it ran on, and in no other."""
        import duckdb

        ledger = self.world.warehouse.with_suffix(".ledger.duckdb")
        with duckdb.connect(str(ledger), read_only=True) as connection:
            recorded = {row[0] for row in connection.execute("select distinct invocation_id from partition_runs").fetchall()}
        for invocation, ran_on in self.world.hand_invocations.items():
            if (invocation in recorded) != (ran_on == "warehouse"):
                raise Mismatch(f"hand run {invocation} against the {ran_on} warehouse: "
                               f"{'in' if invocation in recorded else 'not in'} the project's ledger")

    def check(self, night: Night, due: list[date]) -> None:
        """Every due partition: the state the oracle expects, and exactly its file's rows."""
        world = self.world
        status = self.runner(night.at, "status", "--json")
        states = {entry["partition_date"]: entry for entry in json.loads(status.stdout)}
        previous = world.nights[-2].outcome if len(world.nights) > 1 else "run"
        for day in due:
            expected = world.expected_state(day, night.at)
            entry = states[day.isoformat()]
            if previous == "killed" and entry["state"] == "failed" and expected != "failed":
                expected = entry["state"] if (entry["message"] or "").startswith("interrupted") else expected
            if entry["state"] != expected:
                raise Mismatch(f"night {night.number} ({night.at}): {day} is {entry['state']} ({entry['message']}), "
                               f"the oracle says {expected}")
            found, rows = world.file_now(day)
            if expected == "materialized" and world.loaded.get(day) != rows:
                raise Mismatch(f"night {night.number}: {day} is materialized but holds other rows than its file")
        self.check_hand_runs()
        night.checked = True


def summary(nights: list[Night], world: World) -> dict:
    outcomes = Counter(night.outcome for night in nights)
    red = sum(1 for night in nights if night.exit_code == 1)
    return {"seed": world.seed, "nights": len(nights), "checked": sum(night.checked for night in nights),
            "outcomes": dict(outcomes), "red_nights": red, "files": dict(world.kinds), "hand_runs": dict(world.hand_runs),
            "loaded": sum(night.loaded for night in nights)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=300)
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "soak.json")
    args = parser.parse_args()
    results = []
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as folder:
            started = time.monotonic()
            simulation = Simulation(Path(folder) / "project", seed, args.days)
            nights = simulation.run()
            results.append({**summary(nights, simulation.world), "seconds": round(time.monotonic() - started, 1)})
            print(json.dumps(results[-1]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
