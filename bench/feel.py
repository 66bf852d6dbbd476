"""What a user feels (issue 30): the fixed costs of looking and of starting a load, each against
its target, measured in one run on a project of 31 sample days.

    .venv/bin/python -m bench.feel              # medians of 5
    .venv/bin/python -m bench.feel --repeats 1  # a quick look

Prints the feel table and writes bench/out/feel.json. Warm means the command ran once before on the
same inputs (dbt's partial parse and the code fingerprints are there).
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import statistics
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.contenders import BIN, PRODUCT_FILES, REPO, copy_project
from bench.daily import timed
from bench.sample_data import write_days

FIRST_DAY = date(2018, 1, 1)
SPAN = ["--start", "2018-01-01", "--end", "2018-01-31"]


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-feel-") as folder:
        root = Path(folder)
        project = copy_project(REPO, PRODUCT_FILES, root / "project")
        write_days(project / "data" / "source", FIRST_DAY, days=31, rows=2000)
        runner = [str(BIN / "runner"), "--project-dir", str(project)]
        main_env = {**os.environ, "WAREHOUSE_PATH": str(root / "main.duckdb")}
        other_env = {**os.environ, "WAREHOUSE_PATH": str(root / "other.duckdb")}
        for env in (main_env, other_env):  # both warehouses loaded once: every input set used before
            subprocess.run([*runner, "backfill", *SPAN, "--quiet"], cwd=project, env=env, check=True, capture_output=True)

        def in_env(env: dict[str, str], command: list[str]) -> float:
            os.environ.update(WAREHOUSE_PATH=env["WAREHOUSE_PATH"])
            return timed(command, project)

        runs = []
        for _ in range(args.repeats):
            in_env(other_env, [*runner, "status", *SPAN])  # the switch: the other warehouse looked at last
            runs.append({
                "status after a switch": in_env(main_env, [*runner, "status", *SPAN]),
                "status, warm": in_env(main_env, [*runner, "status", *SPAN]),
                "backfill --dry-run": in_env(main_env, [*runner, "backfill", *SPAN, "--only", "all", "--dry-run"]),
                "first line of a backfill": first_line_seconds([*runner, "backfill", *SPAN, "--only", "all"], project, main_env),
            })
    targets = {"status after a switch": 1.0, "status, warm": 1.0, "backfill --dry-run": 1.0, "first line of a backfill": 1.0}
    results = {name: statistics.median(run[name] for run in runs) for name in targets}
    print(f"feel, medians of {args.repeats} (31 days of 2,000 rows):")
    for name, target in targets.items():
        print(f"  {name:<26} {results[name]:5.2f} s  (target <= {target:g} s: {'met' if results[name] <= target else 'missed'})")
    out = REPO / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "feel.json").write_text(json.dumps({"medians_s": results, "targets_s": targets, "runs": runs}, indent=2) + "\n")


if __name__ == "__main__":
    main()
