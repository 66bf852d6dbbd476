"""The daily-operation benchmark (issue 17): what a scheduler or a sensor pays each day.

    .venv/bin/python -m bench.daily              # 20 files, 5 repeats of the commands
    .venv/bin/python -m bench.daily --smoke      # 3 files, 1 repeat (CI)

1. `runner watch` latency: a file renamed into the source folder, to the watcher's line saying its
   partition is loaded (printed after the ledger records it); median over files arriving one at a
   time, against a `dbt run --vars '{partition_date: ...}'` process per partition, in the same run.
2. A backfill with nothing to do, as a whole process, against `runner status`.
3. The daily run (issue 20): a `runner run DATE` process against a plain `dbt build --vars
   '{partition_date: DATE}'` process of the same nodes, in pairs, each reloading a loaded day.
Prints the medians and ratios, writes them to bench/out/daily.json; exits 1 when a load fails.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

from bench.contenders import BIN, PRODUCT_FILES, REPO, copy_project, dbt_args, dbt_vars
from bench.sample_data import write_days

FIRST_DAY = date(2018, 1, 1)  # the sample project defines January 2018
LOADED_DAYS = 5
ROWS = 2000
TARGETS = {"watch latency <= 0.5 s": 0.5, "nothing-to-do backfill <= 1.2x status": 1.2,
           "runner run <= 1.0x dbt build process": 1.0}


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds


def watch_delays(project: Path, stage: Path, days: list[date], env: dict[str, str]) -> list[dict]:
    """Start `runner watch --json`, then rename one file in at a time: for each, the seconds from the
    rename to its `load` event, and that event's own `seconds` (the load)."""
    watcher = subprocess.Popen([str(BIN / "runner"), "--project-dir", str(project), "watch", "--json"], cwd=project,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put((time.perf_counter(), json.loads(line))) for line in watcher.stdout],
                     daemon=True).start()

    def until(kind: str, day: str | None = None) -> tuple[float, dict]:
        while True:
            seen, event = lines.get(timeout=300)
            if event["event"] == kind and (day is None or event.get("partition_date") == day):
                return seen, event

    measured = []
    try:
        until("watching")
        for day in days:
            name = f"{day.isoformat()}.csv"
            started = time.perf_counter()
            (stage / name).rename(project / "data" / "source" / name)
            seen, loaded = until("load", day.isoformat())
            if loaded["outcome"] != "loaded":
                raise SystemExit(f"{day}: the watcher failed to load it: {loaded['message']}")
            whole = seen - started
            measured.append({"rename_to_load_event": whole, "load": loaded["seconds"], "detection": whole - loaded["seconds"]})
    finally:
        watcher.terminate()
        watcher.wait(timeout=120)
    return measured


def watch_latencies(project: Path, stage: Path, days: list[date]) -> list[float]:
    """Start a watcher, then rename one file in at a time: the seconds to each one's load line."""
    return [measured["rename_to_load_event"] for measured in watch_delays(project, stage, days, dict(os.environ))]


def dbt_process_seconds(project: Path, days: list[date]) -> list[float]:
    """A `dbt run` process per partition, as a cron line without the runner would run it."""
    source = project / "data" / "source"
    return [timed([str(BIN / "dbt"), "run", *dbt_args(project), "--vars", dbt_vars(source, partition_date=day.isoformat())],
                  project) for day in days]


def daily_run_pairs(project: Path, runner: list[str], scratch: Path, repeats: int) -> list[tuple[float, float]]:
    """(runner run DATE, dbt build of the same nodes) as processes, run back to back, the first of
    each pair alternating. dbt writes its artifacts to a folder of its own, so that the runner does
    not pick its build up as a hand run."""
    source = project / "data" / "source"
    pairs = []
    for n in range(repeats):
        day = (FIRST_DAY + timedelta(days=n % LOADED_DAYS)).isoformat()
        run = [*runner, "run", day]
        build = [str(BIN / "dbt"), "build", *dbt_args(project), "--selector", "partitioned", "--exclude-resource-type",
                 "unit_test", "--target-path", str(scratch / "target"), "--vars", dbt_vars(source, partition_date=day)]
        if n % 2 == 0:
            run_s, build_s = timed(run, project), timed(build, project)
        else:
            build_s, run_s = timed(build, project), timed(run, project)
        pairs.append((run_s, build_s))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="3 files and 1 repeat: a minute, for CI")
    parser.add_argument("--files", type=int, default=20, help="files arriving one at a time (default 20)")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each command (default 5)")
    args = parser.parse_args()
    files, repeats = (3, 1) if args.smoke else (args.files, args.repeats)
    if LOADED_DAYS + files > 31:
        parser.error(f"--files: at most {31 - LOADED_DAYS} (the sample project defines January 2018)")

    with tempfile.TemporaryDirectory(prefix="bench-daily-") as folder:
        root = Path(folder)
        project = copy_project(REPO, PRODUCT_FILES, root / "project")
        arriving = [FIRST_DAY + timedelta(days=LOADED_DAYS + n) for n in range(files)]
        write_days(project / "data" / "source", FIRST_DAY, days=LOADED_DAYS, rows=ROWS)
        write_days(root / "stage", arriving[0], days=files, rows=ROWS)
        runner = [str(BIN / "runner"), "--project-dir", str(project)]
        timed([*runner, "backfill"], project)  # seeds, the first days, the parse: untimed

        # The two commands of one pair run back to back, so both see the machine in the same state.
        pairs = [(timed([*runner, "backfill"], project), timed([*runner, "status"], project)) for _ in range(repeats)]
        daily_runs = daily_run_pairs(project, runner, root, repeats)
        latencies = watch_latencies(project, root / "stage", arriving)
        processes = dbt_process_seconds(project, arriving[:max(1, repeats // 2 + 1)])

    backfill_s = statistics.median(b for b, _ in pairs)
    status_s = statistics.median(s for _, s in pairs)
    results = {
        "watch_latency_s": statistics.median(latencies),
        "watch_latencies_s": [round(value, 3) for value in latencies],
        "dbt_run_process_s": statistics.median(processes),
        "nothing_to_do_backfill_s": backfill_s,
        "status_s": status_s,
        "runner_run_s": statistics.median(run for run, _ in daily_runs),
        "dbt_build_process_s": statistics.median(build for _, build in daily_runs),
        "rows_per_file": ROWS,
    }
    results["watch_over_dbt_process"] = results["watch_latency_s"] / results["dbt_run_process_s"]
    results["backfill_over_status"] = backfill_s / status_s
    results["runner_run_over_dbt_build"] = results["runner_run_s"] / results["dbt_build_process_s"]
    print(f"runner watch: median {results['watch_latency_s']:.2f} s from a file renamed into place to its load line "
          f"({files} files of {ROWS} rows); a dbt run process per partition: {results['dbt_run_process_s']:.2f} s "
          f"(ratio {results['watch_over_dbt_process']:.2f})")
    print(f"nothing to do: runner backfill {backfill_s:.2f} s, runner status {status_s:.2f} s "
          f"(ratio {results['backfill_over_status']:.2f}; medians of {repeats})")
    print(f"the daily run: runner run {results['runner_run_s']:.2f} s, dbt build of the same nodes "
          f"{results['dbt_build_process_s']:.2f} s (ratio {results['runner_run_over_dbt_build']:.2f}; medians of {repeats} pairs)")
    checks = {"watch latency <= 0.5 s": results["watch_latency_s"],
              "nothing-to-do backfill <= 1.2x status": results["backfill_over_status"],
              "runner run <= 1.0x dbt build process": results["runner_run_over_dbt_build"]}
    for name, value in checks.items():
        print(f"  {name}: {value:.2f} {'met' if value <= TARGETS[name] else 'missed'}")
    out = REPO / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "daily.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
