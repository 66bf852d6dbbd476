"""dbt reads the ledger: `{{ source('runner_ledger', 'partition_runs') }}` resolves, in a plain
`dbt show` made by hand, to the ledger's copy the runner refreshes after each command that wrote it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from runner.ledger_snapshot import snapshot_path

DBT = Path(sys.executable).with_name("dbt")
COUNT = "select count(*) as n, count(distinct partition_date) as days from {{ source('runner_ledger', 'partition_runs') }}"


def dbt_show(project) -> dict:
    """What dbt itself reads from the source, in a process of its own (as a user runs it)."""
    done = subprocess.run([DBT, "show", "--inline", COUNT, "--output", "json", "--log-format", "json",
                           "--profiles-dir", ".", "--target-path", "target/by-hand"],
                          cwd=project.root, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "WAREHOUSE_PATH": str(project.warehouse)})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    for line in done.stdout.splitlines():
        preview = json.loads(line).get("data", {}).get("preview")
        if preview:
            return json.loads(preview)[0]
    raise AssertionError(done.stdout[-3000:])


def in_the_ledger(project) -> dict:
    with duckdb.connect(str(project.ledger), read_only=True) as connection:
        n, days = connection.execute("select count(*), count(distinct partition_date) from partition_runs").fetchone()
    return {"n": n, "days": days}


def test_the_runner_ledger_source_reads_what_the_ledger_holds_after_each_command(project):
    assert project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-02").exit_code == 0
    assert dbt_show(project) == in_the_ledger(project)
    assert in_the_ledger(project)["days"] == 2

    copy = snapshot_path(project.warehouse)
    before = copy.stat().st_mtime_ns
    assert project.runner("status").exit_code == 0  # a read writes nothing: the copy is as it was
    assert copy.stat().st_mtime_ns == before

    assert project.runner("run", "2018-01-03").exit_code == 0
    assert dbt_show(project) == in_the_ledger(project)
    assert in_the_ledger(project)["days"] == 3


def test_a_watchers_load_reaches_dbts_ledger_source_before_its_line(project, tmp_path):
    from test_watch import Watching, land, staged

    watcher = Watching(project, "--settle", "30")
    try:
        watcher.until("watching")
        land(project, staged(tmp_path, "2018-01-06", rows=4))
        watcher.until("load", partition_date="2018-01-06")
        # The watcher still runs: the copy dbt reads already holds the load it just reported.
        copy = snapshot_path(project.warehouse)
        days = duckdb.sql(f"select distinct partition_date::varchar from read_parquet('{copy}') order by 1").fetchall()
        assert [day for (day,) in days] == [f"2018-01-0{n}" for n in range(1, 7)]
        assert watcher.stop() == 0
    finally:
        if watcher.process.poll() is None:
            watcher.finish()
