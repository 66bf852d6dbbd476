"""The cluster target where it differs from running Spark in-process: the scripts that start and stop
the local cluster, the cluster going away in the middle of a backfill, and status without it.

The cases shared with the session target (rows as DuckDB's, idempotent reloads, emptied days, bad rows,
hand runs) are in test_spark.py, on both targets. These run last: they stop the test run's cluster.
"""

from __future__ import annotations

import ipaddress
import os
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIRST_DAY, Project

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def cluster_project(template_project, tmp_path_factory, spark_cluster):
    """A project on the cluster target, in a schema of its own on the shared cluster; 01..02 loaded."""
    spark_cluster.ensure_up()
    root = tmp_path_factory.mktemp("cluster-cases") / "project"
    shutil.copytree(template_project, root)
    with pytest.MonkeyPatch.context() as patch:
        for name in ("WAREHOUSE_PATH", "LEDGER_PATH"):
            patch.delenv(name, raising=False)
        patch.setenv("DBT_TARGET", "cluster")
        patch.setenv("SPARK_SCHEMA", "cluster_cases")
        patch.setenv("SPARK_THRIFT_PORT", str(spark_cluster.thrift_port))
        patch.chdir(root)
        project = Project(root)
        from bench.sample_data import write_days

        write_days(project.source_dir, FIRST_DAY, days=6, rows=20)
        result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-02")
        assert result.exit_code == 0, result.output
        yield project


def children(pid: int) -> list[int]:
    """The processes whose parent is pid (the worker's executors)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting for its parent to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def listening_addresses(pids: list[int]) -> set[str]:
    """Every address:port these processes listen on (TCP, IPv4 and IPv6), from /proc."""
    inodes = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[len("socket:["):-1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:  # 0A: LISTEN
                hex_address, hex_port = local.split(":")
                raw = bytes.fromhex(hex_address)
                address = ipaddress.ip_address(b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4)))
                address = getattr(address, "ipv4_mapped", None) or address
                found.add(f"{address}:{int(hex_port, 16)}")
    return found


def test_every_part_of_the_cluster_listens_on_loopback_only(cluster_project, spark_cluster):
    pids = spark_cluster.pids()
    assert sorted(pids) == ["master", "thrift-server", "worker"]
    executors = children(pids["worker"])
    assert executors, "the Thrift server's application has an executor on the worker"
    addresses = listening_addresses([*pids.values(), *executors])
    assert f"127.0.0.1:{spark_cluster.thrift_port}" in addresses
    assert all(ipaddress.ip_address(address.rsplit(":", 1)[0]).is_loopback for address in addresses), addresses


def read_line(pipe, timeout: float) -> str:
    """The next line from a child's pipe, or fail after timeout seconds (no test waits forever)."""
    ready, _, _ = select.select([pipe], [], [], timeout)
    assert ready, f"no line from the runner in {timeout}s"
    return pipe.readline()


def test_cluster_stopped_mid_backfill_gives_a_line_per_partition_and_a_true_status(cluster_project, spark_cluster):
    """The cluster stopped (by scripts/cluster-stop) after the first partition of four: every partition
    gets one line, loaded or failed, the status says the same, and the cluster's processes are gone."""
    spark_cluster.ensure_up()
    backfill = subprocess.Popen(
        [sys.executable, "-m", "runner", "backfill", "--start", "2018-01-03", "--end", "2018-01-06", "--chunk-size", "1"],
        cwd=cluster_project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        first = read_line(backfill.stdout, 600)
        assert first.startswith("2018-01-03  loaded  20 rows"), first
        pids = spark_cluster.pids()
        processes = [*pids.values(), *children(pids["worker"])]
        spark_cluster.stop()
        out, err = backfill.communicate(timeout=600)
    finally:
        if backfill.poll() is None:
            backfill.kill()
            backfill.wait()

    assert not [pid for pid in processes if alive(pid)]
    assert backfill.returncode == 1, first + out + err
    lines = [first.rstrip("\n"), *out.splitlines()]
    partition_lines = [line for line in lines if line.startswith("2018-")]
    assert [line[:10] for line in partition_lines] == ["2018-01-03", "2018-01-04", "2018-01-05", "2018-01-06"]
    outcomes = {line[:10]: line.split()[1] for line in partition_lines}
    assert set(outcomes.values()) <= {"loaded", "failed"} and "failed" in outcomes.values()
    assert "Traceback" not in out + err
    # One line per failed partition, naming why: the server went away or cannot be reached.
    for line in partition_lines:
        if outcomes[line[:10]] == "failed":
            assert "127.0.0.1" in line or "TTransport" in line or "connect" in line.lower(), line
    statuses = cluster_project.status("--start", "2018-01-03", "--end", "2018-01-06")
    assert {day: entry["state"] for day, entry in statuses.items()} == {
        day: "materialized" if outcome == "loaded" else "failed" for day, outcome in outcomes.items()
    }


def says_it_did_not_check(stderr: str) -> None:
    """One line: the states are the ledger's, the warehouse was not looked at."""
    assert len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("note: the warehouse ") and "the states are the ledger's" in stderr, stderr


def test_status_works_without_the_cluster(cluster_project, spark_cluster):
    """status reads the ledger and the files: with the cluster down it answers, in a new process,
    saying it did not check the warehouse, even when it has to try to compile the models (and
    cannot, so it checks no code either)."""
    spark_cluster.stop()
    assert not spark_cluster.is_up()
    command = [sys.executable, "-m", "runner", "status", "--start", "2018-01-01", "--end", "2018-01-02"]
    done = subprocess.run(command, cwd=cluster_project.root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "2 materialized, 0 failed, 0 stale, 0 missing"
    says_it_did_not_check(done.stderr)
    (cluster_project.root / "target" / "runner" / "code_fingerprints.json").unlink()
    done = subprocess.run(command, cwd=cluster_project.root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "2 materialized, 0 failed, 0 stale, 0 missing"
    says_it_did_not_check(done.stderr)
