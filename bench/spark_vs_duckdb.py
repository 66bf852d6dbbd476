"""A 30-day backfill on Spark local mode against the same backfill on DuckDB (issue 6).

    .venv/bin/python -m bench.spark_vs_duckdb [--days 30] [--rows 2000] [--repeats 1]

Each run is `runner backfill` in a new process, on a fresh copy of the project with an empty
warehouse, so the Spark figure includes starting Spark (the JVM and its Derby metastore), as a user
pays it. Needs the spark extra and Java 17. Prints wall seconds (the median of the repeats) and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from bench.contenders import PRODUCT_FILES, REPO, Workload, copy_project, runner_command
from bench.measure import run_all
from bench.run import child_env, source_files


def backfill_seconds(target: str, workload: Workload, source_dir: Path, folder: Path) -> float:
    project = copy_project(REPO, PRODUCT_FILES, folder / "project")
    env = {**child_env(REPO), "WAREHOUSE_PATH": str(folder / "warehouse.duckdb"), "SPARK_DIR": str(folder / "spark"),
           "DBT_TARGET": target}
    measured = run_all([runner_command(project, workload.first_days(workload.days), source_dir)], folder, env, folder / "output.log")
    if measured.exit_code != 0:
        sys.exit(f"{target}: the backfill failed (exit {measured.exit_code}), see {measured.log}")
    return measured.seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.spark_vs_duckdb", description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    workload = Workload(args.days, args.rows, 0, 0)
    source_dir = source_files(REPO / "bench" / "out" / "data", workload, args.seed)
    seconds: dict[str, list[float]] = {"duckdb": [], "spark": []}
    with tempfile.TemporaryDirectory(prefix="bench-spark-") as scratch:
        for repeat in range(args.repeats):
            for target in seconds:
                folder = Path(scratch) / f"{target}{repeat}"
                folder.mkdir()
                seconds[target].append(backfill_seconds(target, workload, source_dir, folder))
                print(f"  run {repeat + 1}/{args.repeats}  {target:<6} {seconds[target][-1]:8.1f} s", flush=True)
    duck, spark = (statistics.median(seconds[target]) for target in ("duckdb", "spark"))
    print(f"{workload.name} backfill, median of {args.repeats}: DuckDB {duck:.1f} s, Spark local {spark:.1f} s "
          f"({spark / duck:.1f}x DuckDB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
