"""What a user feels (issue 30): the fixed costs of looking and of starting a load, each against
its target, measured in one run on a project of 31 sample days.

    .venv/bin/python -m bench.feel                          # medians of 5, then `make run` in a fresh clone
    .venv/bin/python -m bench.feel --repeats 1 --skip-make  # a quick look (--quick: the same)

Prints the feel table and writes bench/out/feel.json. Warm means the command ran once before on the
same inputs (dbt's partial parse and the code fingerprints are there). The rows:

- `runner status` right after a status of another warehouse (a switch), and warm;
- `runner backfill --dry-run`, and a backfill's first line on a terminal;
- the console's plan: a POST /api/plan round trip to a running `runner ui` (one plan before);
- `runner run D --retries 0` (a reload) against a `dbt build --selector partitioned` process of the
  same day, as whole processes, interleaved: the ratio (and the same against a dbt build of the
  runner's own nodes, unit tests excluded);
- `runner watch`: from a file renamed into the source folder to the watcher's `load` event, and the
  detection delay: that time minus the load's own `seconds`;
- `make run` in a fresh clone of this repository (the venv created, the packages installed from the
  warm caches, the 31 sample days loaded): one run, last; `--skip-make` leaves it out.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import pty
import re
import statistics
import subprocess
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.contenders import BIN, PRODUCT_FILES, REPO, copy_project
from bench.daily import timed, watch_delays
from bench.sample_data import write_days
from runner.backfills import DEFAULT_CHUNK_SIZE

FIRST_DAY = date(2018, 1, 1)
SPAN = ["--start", "2018-01-01", "--end", "2018-01-31"]
RELOADED = "2018-01-15"  # the partition `runner run` and `dbt build` load again
ROWS = 2000
WATCH_LOADED_DAYS = 5  # the watch project's days loaded before the watcher starts; the rest arrive
TARGETS = {  # seconds, or (for the *_ratio rows) the runner's time over dbt's own process
    "status after a switch": 1.0,
    "status, warm": 1.0,
    "backfill --dry-run": 1.0,
    "first line of a backfill": 1.0,
    "console plan": 1.5,
    "runner run / dbt build": 1.0,
    "runner run / dbt build, same nodes": 1.0,
    "watch: detection delay": 0.5,
    "make run, fresh clone": 90.0,
}


def first_line_seconds(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    """From the start of a command on a pseudo-terminal to its first line; the command is then stopped."""
    leader, follower = pty.openpty()
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower)
    os.close(follower)
    written = b""
    while b"\n" not in written:
        chunk = os.read(leader, 4096)
        if not chunk:
            break
        written += chunk
    seconds = time.perf_counter() - started
    process.kill()
    process.wait()
    os.close(leader)
    return seconds


class Console:
    """`runner ui --port 0` on the project, as a user starts it; its token read from its page."""

    def __init__(self, project: Path, env: dict[str, str]):
        self.process = subprocess.Popen([str(BIN / "runner"), "--project-dir", str(project), "ui", "--port", "0"],
                                        cwd=project, env={**env, "PYTHONUNBUFFERED": "1"}, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = self.process.stdout.readline()
        found = re.fullmatch(r"serving http://127\.0\.0\.1:(\d+)/ \(Ctrl-C to stop\)\n", line)
        if not found:
            self.stop()
            raise SystemExit(f"runner ui did not start: {line!r}")
        self.port = int(found[1])
        deadline = time.monotonic() + 120
        while True:  # it says where a moment before it listens
            try:
                page = self.request("GET", "/")
                break
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.token = re.search(r'<meta name="console-token" content="([^"]+)">', page)[1]

    def request(self, method: str, path: str, body: dict | None = None) -> str:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Content-Type": "application/json", "X-Console-Token": getattr(self, "token", "")}
        try:
            connection.request(method, path, json.dumps(body).encode() if body is not None else None, headers)
            response = connection.getresponse()
            answer = response.read().decode()
        finally:
            connection.close()
        if response.status != 200:
            raise SystemExit(f"{method} {path}: {response.status} {answer[:500]}")
        return answer

    def plan_seconds(self) -> float:
        """One POST /api/plan round trip: the plan of every partition of the month (--only all)."""
        started = time.perf_counter()
        answer = json.loads(self.request("POST", "/api/plan", {"start": "2018-01-01", "end": "2018-01-31", "only": "all",
                                                               "chunk_size": str(DEFAULT_CHUNK_SIZE)}))
        seconds = time.perf_counter() - started
        if "error" in answer or len(answer["plan"]) != 31:
            raise SystemExit(f"the console's plan: {str(answer)[:500]}")
        return seconds

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def make_run_seconds(folder: Path) -> float:
    """`make run` in a fresh clone of this repository: the venv created, the packages installed (from
    the warm caches), the sample days loaded and their status printed."""
    clone = folder / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    env = {name: value for name, value in os.environ.items()
           if name not in ("WAREHOUSE_PATH", "LEDGER_PATH", "VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL")}
    started = time.perf_counter()
    done = subprocess.run(["make", "run"], cwd=clone, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"make run failed ({done.returncode}): {(done.stdout + done.stderr)[-2000:]}")
    if "31 materialized" not in done.stdout:
        raise SystemExit(f"make run did not load the 31 days: {done.stdout[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one repeat, no `make run`: a quick look")
    parser.add_argument("--skip-make", action="store_true", help="leave out `make run` in a fresh clone (over a minute)")
    args = parser.parse_args()
    repeats, skip_make = (1, True) if args.quick else (args.repeats, args.skip_make)
    with tempfile.TemporaryDirectory(prefix="bench-feel-") as folder:
        root = Path(folder)
        project = copy_project(REPO, PRODUCT_FILES, root / "project")
        write_days(project / "data" / "source", FIRST_DAY, days=31, rows=ROWS)
        runner = [str(BIN / "runner"), "--project-dir", str(project)]
        # Not main.duckdb: a table model rebuilt in a file of that name fails (docs/performance.md, Feel).
        main_env = {**os.environ, "WAREHOUSE_PATH": str(root / "feel.duckdb")}
        other_env = {**os.environ, "WAREHOUSE_PATH": str(root / "other.duckdb")}
        for env in (main_env, other_env):  # both warehouses loaded once: every input set used before
            subprocess.run([*runner, "backfill", *SPAN, "--quiet"], cwd=project, env=env, check=True, capture_output=True)

        def in_env(env: dict[str, str], command: list[str]) -> float:
            os.environ.update(WAREHOUSE_PATH=env["WAREHOUSE_PATH"])
            return timed(command, project)

        # The daily run: the runner's reload of one loaded day, and dbt's own process for that day, as
        # a user types it (`--selector partitioned`: its unit tests too) and with the runner's nodes
        # (unit tests excluded). dbt writes its artifacts elsewhere, so that the runner does not take
        # them for a hand run's; its on-run-end hook still leaves the hand run in the warehouse, for
        # the next runner command to record, as it would for a user.
        build = [str(BIN / "dbt"), "build", "--selector", "partitioned", "--vars", f"{{partition_date: {RELOADED}}}",
                 "--profiles-dir", "."]
        daily = {
            "runner run": [*runner, "run", RELOADED, "--retries", "0"],
            "dbt build": [*build, "--target-path", str(root / "target-build")],
            "dbt build, same nodes": [*build, "--exclude-resource-type", "unit_test", "--target-path", str(root / "target-nodes")],
        }
        for command in daily.values():  # each parsed once, with its own vars and target path
            in_env(main_env, command)

        console = Console(project, main_env)
        runs = []
        try:
            console.plan_seconds()  # warm: one plan before
            for n in range(repeats):
                in_env(other_env, [*runner, "status", *SPAN])  # the switch: the other warehouse looked at last
                run = {
                    "status after a switch": in_env(main_env, [*runner, "status", *SPAN]),
                    "status, warm": in_env(main_env, [*runner, "status", *SPAN]),
                    "backfill --dry-run": in_env(main_env, [*runner, "backfill", *SPAN, "--only", "all", "--dry-run"]),
                    "first line of a backfill": first_line_seconds([*runner, "backfill", *SPAN, "--only", "all"], project, main_env),
                    "console plan": console.plan_seconds(),
                }
                names = list(daily)[n % 3:] + list(daily)[:n % 3]  # interleaved: each goes first in turn
                run.update({name: in_env(main_env, daily[name]) for name in names})
                runs.append(run)
        finally:
            console.stop()

        # Watch: a project of its own, its first days loaded; the others arrive one at a time.
        watched = copy_project(REPO, PRODUCT_FILES, root / "watched")
        arriving = [FIRST_DAY + timedelta(days=WATCH_LOADED_DAYS + n) for n in range(max(3, repeats))]
        write_days(watched / "data" / "source", FIRST_DAY, days=WATCH_LOADED_DAYS, rows=ROWS)
        write_days(root / "stage", arriving[0], days=len(arriving), rows=ROWS)
        watch_env = {**os.environ, "WAREHOUSE_PATH": str(root / "watched.duckdb")}
        subprocess.run([str(BIN / "runner"), "--project-dir", str(watched), "backfill", "--quiet"], cwd=watched,
                       env=watch_env, check=True, capture_output=True)
        watches = watch_delays(watched, root / "stage", arriving, watch_env)

        make_s = None if skip_make else make_run_seconds(root)

    def median(name: str) -> float:
        return statistics.median(run[name] for run in runs)

    results = {name: median(name) for name in ("status after a switch", "status, warm", "backfill --dry-run",
                                               "first line of a backfill", "console plan")}
    for name in ("runner run", "dbt build", "dbt build, same nodes"):
        results[name] = median(name)
    results["runner run / dbt build"] = results["runner run"] / results["dbt build"]
    results["runner run / dbt build, same nodes"] = results["runner run"] / results["dbt build, same nodes"]
    results["watch: rename to load event"] = statistics.median(w["rename_to_load_event"] for w in watches)
    results["watch: the load's own seconds"] = statistics.median(w["load"] for w in watches)
    results["watch: detection delay"] = statistics.median(w["detection"] for w in watches)
    if make_s is not None:
        results["make run, fresh clone"] = make_s

    met = {name: results[name] <= target for name, target in TARGETS.items() if name in results}
    print(f"feel, medians of {repeats} ({ROWS:,} rows a day; watch: {len(watches)} files; make run: "
          f"{'skipped' if make_s is None else 'one run'}):")
    for name in results:
        ratio = "/" in name
        value = f"{results[name]:6.2f}{'x' if ratio else ' s'}"
        target = f"  (target <= {TARGETS[name]:g}{'x' if ratio else ' s'}: {'met' if met[name] else 'missed'})" if name in met else ""
        print(f"  {name:<36} {value}{target}")
    out = REPO / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "feel.json").write_text(json.dumps({"results": results, "targets": TARGETS, "met": met, "repeats": repeats,
                                               "runs": runs, "watch": watches, "make_run_s": make_s,
                                               "load_average": os.getloadavg()}, indent=2) + "\n")


if __name__ == "__main__":
    main()
