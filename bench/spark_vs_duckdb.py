"""A 30-day backfill on Spark local mode and on a local Spark cluster against the same backfill on
DuckDB (issues 6 and 22).

    .venv/bin/python -m bench.spark_vs_duckdb [--days 30] [--rows 2000] [--repeats 1] [--targets duckdb,spark,cluster]

Each run is `runner backfill` in a new process, on a fresh copy of the project with an empty
warehouse, so the Spark figure includes starting Spark (the JVM and its Derby metastore), as a user
pays it. The cluster (scripts/cluster-start: a master, a worker, a Thrift server on 127.0.0.1) is
started once before the runs, untimed, as a user's cluster is already up; each cluster run loads a
schema of its own. Needs the spark and cluster extras and Java 17. Prints wall seconds (the median of
the repeats) and the ratios.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench.contenders import PRODUCT_FILES, REPO, Workload, copy_project, runner_command
from bench.measure import run_all
from bench.run import child_env, source_files


def backfill_seconds(target: str, workload: Workload, source_dir: Path, folder: Path, extra_env: dict[str, str]) -> float:
    project = copy_project(REPO, PRODUCT_FILES, folder / "project")
    env = {**child_env(REPO), "WAREHOUSE_PATH": str(folder / "warehouse.duckdb"), "SPARK_DIR": str(folder / "spark"),
           "DBT_TARGET": target, "SPARK_SCHEMA": f"bench_{folder.name}", **extra_env}
    measured = run_all([runner_command(project, workload.first_days(workload.days), source_dir)], folder, env, folder / "output.log")
    if measured.exit_code != 0:
        sys.exit(f"{target}: the backfill failed (exit {measured.exit_code}), see {measured.log}")
    return measured.seconds


@contextmanager
def local_cluster(folder: Path):
    """The repository's local cluster, on a free Thrift port, for the duration; the env that reaches it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "CLUSTER_DIR": str(folder), "CLUSTER_THRIFT_PORT": str(port), "CLUSTER_MASTER_PORT": "0"}
    try:
        subprocess.run([str(REPO / "scripts" / "cluster-start")], env=env, check=True)
        yield {"SPARK_THRIFT_PORT": str(port)}
    finally:
        subprocess.run([str(REPO / "scripts" / "cluster-stop")], env=env, check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.spark_vs_duckdb", description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--targets", default="duckdb,spark,cluster", help="comma-separated: duckdb, spark, cluster")
    args = parser.parse_args(argv)
    targets = [name for name in args.targets.split(",") if name]
    if "duckdb" not in targets or not set(targets) <= {"duckdb", "spark", "cluster"}:
        parser.error("--targets: duckdb and any of spark, cluster")
    workload = Workload(args.days, args.rows, 0, 0)
    source_dir = source_files(REPO / "bench" / "out" / "data", workload, args.seed)
    seconds: dict[str, list[float]] = {target: [] for target in targets}
    with tempfile.TemporaryDirectory(prefix="bench-spark-") as scratch, ExitStack() as stack:
        # The cluster is stopped before its folder is removed, and whatever happens.
        extra_env = stack.enter_context(local_cluster(Path(scratch) / "cluster")) if "cluster" in targets else {}
        for repeat in range(args.repeats):
            for target in seconds:
                folder = Path(scratch) / f"{target}{repeat}"
                folder.mkdir()
                seconds[target].append(backfill_seconds(target, workload, source_dir, folder, extra_env))
                print(f"  run {repeat + 1}/{args.repeats}  {target:<7} {seconds[target][-1]:8.1f} s", flush=True)
    medians = {target: statistics.median(values) for target, values in seconds.items()}
    names = {"duckdb": "DuckDB", "spark": "Spark local", "cluster": "local cluster (Thrift)"}
    print(f"{workload.name} backfill, median of {args.repeats}: " + ", ".join(
        f"{names[target]} {median:.1f} s" + ("" if target == "duckdb" else f" ({median / medians['duckdb']:.1f}x DuckDB)")
        for target, median in medians.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
