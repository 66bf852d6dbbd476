"""Fixtures: a copy of the dbt project in a temporary folder, with its own daily files and warehouse."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from bench.sample_data import write_days
from runner.cli import cli
from runner.dbt import Dbt
from runner.project import load_project

REPO = Path(__file__).resolve().parent.parent
PROJECT_FILES = ["dbt_project.yml", "selectors.yml", "profiles.yml", "models", "macros", "seeds", "data-tests"]
FIRST_DAY = date(2018, 1, 1)
STATUS_REPORTING_IMPORTS = """
import json, sys
from runner.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="runner")
finally:
    imported = {name.split(".")[0] for name in sys.modules if name.startswith(("dbt", "pyspark", "py4j"))}
    print(json.dumps(sorted(imported)), file=sys.stderr)
"""


@pytest.fixture(scope="session")
def template_project(tmp_path_factory) -> Path:
    """The project copied once, with five sample days, parsed once so each test starts warm."""
    root = tmp_path_factory.mktemp("template") / "project"
    root.mkdir()
    for name in PROJECT_FILES:
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    write_days(root / "data" / "source", FIRST_DAY, days=5, rows=20)
    # Parse once: each copy starts from this partial parse instead of parsing from scratch.
    dbt = Dbt(load_project(str(root)))
    assert dbt.parse().error is None
    return root


def ctrl_c_reaches_the_child() -> None:
    """preexec_fn for a child that a test stops with SIGINT, as Ctrl-C in a terminal does. A shell
    running the tests in the background (`make test &`) ignores SIGINT, its children inherit that,
    and Python then never turns SIGINT into KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Project:
    """A project in a temporary folder, and helpers to drive the runner and read the warehouse."""

    def __init__(self, root: Path):
        self.root = root
        self.source_dir = root / "data" / "source"
        self.warehouse = root / "data" / "warehouse.duckdb"
        self.ledger = root / "data" / "warehouse.ledger.duckdb"

    def runner(self, *args: str, catch: bool = True):
        result = CliRunner().invoke(cli, ["--project-dir", str(self.root), *args], catch_exceptions=catch)
        return result

    def status(self, *args: str) -> dict[str, dict]:
        result = self.runner("status", "--json", *args)
        assert result.exit_code == 0, result.output
        return {entry["partition_date"]: entry for entry in json.loads(result.stdout)}

    def status_in_a_new_process(self, *args: str) -> tuple[dict[str, dict], list[str]]:
        """`runner status --json` in a process of its own, as a user or a scheduler runs it: its
        entries, and which of dbt's and Spark's packages it imported."""
        done = subprocess.run([sys.executable, "-c", STATUS_REPORTING_IMPORTS, "--project-dir", str(self.root),
                               "status", "--json", *args], cwd=self.root, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        entries = {entry["partition_date"]: entry for entry in json.loads(done.stdout)}
        return entries, json.loads(done.stderr.splitlines()[-1])

    def file(self, day: str) -> Path:
        return self.source_dir / f"{day}.csv"

    def query(self, sql: str, params=()) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as connection:
            return connection.execute(sql, params).fetchall()

    def rows(self, day: str) -> list[tuple]:
        """A partition's rows in raw_partition_data, in a stable order."""
        return self.query(
            "select * exclude (source_file) from raw_partition_data where partition_date = ? order by all", [day]
        )


@pytest.fixture
def project(template_project, tmp_path, monkeypatch) -> Project:
    root = tmp_path / "project"
    shutil.copytree(template_project, root)
    for name in ("WAREHOUSE_PATH", "LEDGER_PATH", "DBT_TARGET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(root)
    return Project(root)


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory):
    """One local Spark standalone cluster with a Thrift server for the whole test run (starting one
    takes about a minute), through the repository's own scripts; stopped at the end, even on failure."""
    pytest.importorskip("pyhive", reason="the cluster extra is not installed: pip install -e '.[cluster]'")
    if shutil.which("java") is None:
        pytest.skip("the cluster target needs Java 17")
    from spark_cluster import Cluster

    cluster = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
