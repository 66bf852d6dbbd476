"""The same project on Apache Spark, on both Spark targets: `spark` (local mode, in this process,
through dbt-spark's session method) and `cluster` (a local standalone cluster behind a Thrift server,
started once per test run by scripts/cluster-start, through dbt-spark's thrift method).

One Spark session per process fixes its warehouse and metastore when it starts, so these tests share
one project per target and run in order: a backfill first, then each case on its own days. Select
them with `pytest -m spark`; they need Java 17 and the spark and cluster extras
(`pip install -e '.[spark,cluster]'`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from conftest import FIRST_DAY, Project

pytestmark = pytest.mark.spark

HEADER = "date,share_price,amount,spend,shift,spread\n"
GOOD_ROW = "2018-01-02,10.0000,500.0000,9.5000,10.5000,9.0000\n"
COLUMNS = "partition_date, quote_date, open_price, high_price, low_price, close_price, volume"
SUMMARY_COLUMNS = (
    "partition_date, quote_count, first_quote_date, last_quote_date, low_price, high_price, total_volume,"
    " round(volume_weighted_close, 6), holiday_name, is_trading_day"
)
BAD_FILES = {
    "bad number": (HEADER + "2018-01-02,ten,500.0000,9.5000,10.5000,9.0000\n", "unparseable number in"),
    "bad date": (HEADER + "2018-13-45,10.0000,500.0000,9.5000,10.5000,9.0000\n", "unparseable date in"),
    "wrong column count": (HEADER + GOOD_ROW + "2018-01-02,10.0000,500.0000,9.5000,10.5000\n", "Malformed"),
    "malformed row": (HEADER + GOOD_ROW + '2018-01-02,"10.0000,500.0000,9.5000,10.5000,9.0000\n', "Malformed"),
}


def spark_sql(sql: str) -> list[tuple]:
    """Rows from the Spark session dbt started in this process, sorted."""
    from pyspark.sql import SparkSession

    return sorted(tuple(row) for row in SparkSession.builder.getOrCreate().sql(sql).collect())


class SparkProject(Project):
    """A project on one of the Spark targets, read back through that target's own engine."""

    def __init__(self, root, target: str, cluster=None):
        super().__init__(root)
        self.target, self.cluster = target, cluster
        self.ledger = root / "data" / f"warehouse.{target}.ledger.duckdb"

    def sql(self, sql: str) -> list[tuple]:
        return self.cluster.sql(sql) if self.cluster else spark_sql(sql)

    def rows(self, day: str) -> list[tuple]:
        return self.sql(f"select {COLUMNS} from daily_loads.raw_partition_data where partition_date = date '{day}'")

    def counts(self) -> list[tuple]:
        return self.sql("select cast(partition_date as string), count(*) from daily_loads.raw_partition_data group by 1")

    def quote_count(self, day: str) -> list[tuple]:
        return self.sql(f"select quote_count from daily_loads.daily_summary where partition_date = date '{day}'")


@pytest.fixture(scope="module", params=["spark", "cluster"])
def spark_project(request, template_project, tmp_path_factory):
    """One project per Spark target for the whole module. `spark`: its Spark files in a temporary
    folder; `cluster`: the test run's shared local cluster, on its Thrift port."""
    # Here, not at import: a run that deselects the suite (-m 'not spark') reports no skip for it.
    pytest.importorskip("pyspark", reason="the spark extra is not installed: pip install -e '.[spark]'")
    target = request.param
    cluster = request.getfixturevalue("spark_cluster") if target == "cluster" else None
    if cluster:
        cluster.ensure_up()  # a test of the cluster module may have stopped it
    root = tmp_path_factory.mktemp(target) / "project"
    shutil.copytree(template_project, root)
    with pytest.MonkeyPatch.context() as patch:
        for name in ("WAREHOUSE_PATH", "LEDGER_PATH", "SPARK_SCHEMA"):
            patch.delenv(name, raising=False)
        patch.setenv("SPARK_DIR", str(root / "data" / "spark"))
        if cluster:
            patch.setenv("SPARK_THRIFT_PORT", str(cluster.thrift_port))
        patch.setenv("DBT_TARGET", target)
        patch.chdir(root)
        project = SparkProject(root, target, cluster)
        # Ten days: 01..05 for the backfill and the DuckDB comparison, the rest for the cases below.
        # Spark in local mode takes seconds a query, so the cases share as few dbt builds as they can.
        from bench.sample_data import write_days

        write_days(project.source_dir, FIRST_DAY, days=10, rows=20)
        result = project.runner("--target", target, "backfill", "--start", "2018-01-01", "--end", "2018-01-05")
        assert result.exit_code == 0, result.output
        yield project


def test_backfill_loads_the_range(spark_project):
    assert spark_project.counts() == [(f"2018-01-0{day}", 20) for day in range(1, 6)]
    statuses = spark_project.status("--start", "2018-01-01", "--end", "2018-01-05")
    assert {entry["state"] for entry in statuses.values()} == {"materialized"}
    assert [entry["rows"] for entry in statuses.values()] == [20] * 5
    assert not (spark_project.root / "metastore_db").exists() and not (spark_project.root / "spark-warehouse").exists()
    # The ledger is a local file whatever the target; the tables and the metastore are the engine's.
    assert spark_project.ledger.is_file()
    if spark_project.cluster:
        assert not (spark_project.root / "data" / "spark").exists()
        assert (spark_project.cluster.folder / "metastore_db").is_dir()
        tables = spark_project.cluster.folder / "warehouse" / "daily_loads.db"
        assert sorted(path.name for path in (tables / "raw_partition_data").glob("partition_date=*")) == [
            f"partition_date=2018-01-0{day}" for day in range(1, 6)
        ]
    else:
        assert (spark_project.root / "data" / "spark" / "metastore_db").is_dir()


def test_status_after_the_backfill_starts_neither_dbt_nor_spark(spark_project):
    statuses, imported = spark_project.status_in_a_new_process("--start", "2018-01-01", "--end", "2018-01-06")
    assert [entry["state"] for entry in statuses.values()] == ["materialized"] * 5 + ["missing"]
    assert imported == []


def test_status_that_has_to_compile_prints_no_spark_log_lines(spark_project):
    """With the code fingerprints forgotten, status compiles the models through the target: on
    `spark` in a Spark session of its own, whose JVM writes its log lines to target/runner/engine.log,
    not to the terminal. (Here that second session cannot open the metastore this test process holds,
    so it cannot check the code; the states still come from the ledger and the files.)"""
    fingerprints = spark_project.root / "target" / "runner" / "code_fingerprints.json"
    engine_log = spark_project.root / "target" / "runner" / "engine.log"
    fingerprints.unlink()
    logged = engine_log.stat().st_size if engine_log.exists() else 0
    done = subprocess.run([sys.executable, "-m", "runner", "status", "--start", "2018-01-01", "--end", "2018-01-05"],
                          cwd=spark_project.root, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    # At most status's own note on what it could not check, one line; not a line of Spark's.
    assert len(done.stderr.splitlines()) <= 1 and all(line.startswith("note: ") for line in done.stderr.splitlines()), done.stderr
    assert done.stdout.splitlines()[-1] == "5 materialized, 0 failed, 0 stale, 0 missing"
    if spark_project.cluster:
        assert fingerprints.is_file()  # it compiled, on the server
    else:
        with open(engine_log) as log:
            log.seek(logged)
            assert " WARN " in log.read()  # the new process's Spark did start, and wrote here


def test_same_files_give_the_same_rows_as_duckdb(spark_project, project):
    for day in range(1, 6):
        shutil.copy(spark_project.file(f"2018-01-0{day}"), project.file(f"2018-01-0{day}"))
    result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-05")
    assert result.exit_code == 0, result.output
    where = "where partition_date between date '2018-01-01' and date '2018-01-05'"
    duck_rows = sorted(project.query(f"select {COLUMNS} from raw_partition_data {where}"))
    assert spark_project.sql(f"select {COLUMNS} from daily_loads.raw_partition_data {where}") == duck_rows
    assert len(duck_rows) == 100
    duck_summary = sorted(project.query(f"select {SUMMARY_COLUMNS} from daily_summary {where}"))
    spark_summary = spark_project.sql(f"select {SUMMARY_COLUMNS} from daily_loads.daily_summary {where}")
    # The weighted close is a double on DuckDB and a decimal on Spark: compared rounded, as floats.
    assert [as_float(row, 7) for row in spark_summary] == [as_float(row, 7) for row in duck_summary]
    assert len(duck_summary) == 5


def as_float(row: tuple, index: int) -> tuple:
    return row[:index] + (None if row[index] is None else float(row[index]),) + row[index + 1:]


def test_chunked_reload_is_idempotent_and_replaces_shrunk_and_emptied_days(spark_project):
    """One chunk of three days: one unchanged, one shrunk, one emptied; each replaced as a unit."""
    unchanged = spark_project.rows("2018-01-02")
    lines = spark_project.file("2018-01-03").read_text().splitlines()
    spark_project.file("2018-01-03").write_text("\n".join(lines[:4]) + "\n")
    spark_project.file("2018-01-04").write_text(HEADER)

    result = spark_project.runner("backfill", "--start", "2018-01-02", "--end", "2018-01-04", "--only", "all", "--chunk-size", "3")

    assert result.exit_code == 0, result.output
    assert spark_project.rows("2018-01-02") == unchanged and len(unchanged) == 20
    assert len(spark_project.rows("2018-01-03")) == 3 and spark_project.quote_count("2018-01-03") == [(3,)]
    assert spark_project.rows("2018-01-04") == [] and spark_project.quote_count("2018-01-04") == [(0,)]
    assert len(spark_project.rows("2018-01-05")) == 20
    statuses = spark_project.status("--start", "2018-01-02", "--end", "2018-01-04")
    assert [(entry["state"], entry["rows"]) for entry in statuses.values()] == [
        ("materialized", 20), ("materialized", 3), ("materialized", 0),
    ]


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_row_fails_the_partition_and_keeps_its_rows(spark_project, case):
    loaded = spark_project.rows("2018-01-02")
    good = spark_project.file("2018-01-02").read_text()
    content, cause = BAD_FILES[case]
    spark_project.file("2018-01-02").write_text(content)
    try:
        result = spark_project.runner("run", "2018-01-02", "--retries", "0")
        assert result.exit_code == 1, result.output
        line = result.output.splitlines()[0]
        assert line.startswith("2018-01-02  failed  ") and cause in line and "2018-01-02.csv" in line
        assert "Traceback" not in result.output
        assert spark_project.rows("2018-01-02") == loaded and len(loaded) == 20
        assert spark_project.status("--start", "2018-01-02", "--end", "2018-01-02")["2018-01-02"]["state"] == "failed"
    finally:
        spark_project.file("2018-01-02").write_text(good)


def test_hand_made_dbt_run_is_recorded(spark_project):
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(
        ["run", "--project-dir", str(spark_project.root), "--profiles-dir", str(spark_project.root), "--target", spark_project.target,
         "--vars", "{partition_date: 2018-01-09, source_dir: " + str(spark_project.source_dir) + "}", "--log-level", "none"]
    )
    assert result.success, result.exception
    assert len(spark_project.rows("2018-01-09")) == 20
    entry = spark_project.status("--start", "2018-01-09", "--end", "2018-01-09")["2018-01-09"]
    assert entry["state"] == "materialized" and entry["rows"] == 20


# Files read right and status told true, the engine-independent parts, on both Spark targets.
REAL_SHAPED = (
    '"SPREAD","date","Amount","share_price","spend","shift"\n'
    "9.5,2018/9/28,1000.25,10.5,10,11\n"
    "1.0000000001,2018-10-1,0,1.5,1.25,2\n"
    "3,2018-1-6,12345678901234.5678,3.5,3.25,4"
)


def test_a_real_shaped_file_loads_as_on_duckdb_with_its_warnings(spark_project, project):
    spark_project.file("2018-01-06").write_text(REAL_SHAPED)
    project.file("2018-01-06").write_text(REAL_SHAPED)
    on = ("--target", spark_project.target)  # the DuckDB project's fixture unset DBT_TARGET
    assert spark_project.runner(*on, "run", "2018-01-06").exit_code == 0
    assert project.runner("run", "2018-01-06").exit_code == 0
    where = "where partition_date = date '2018-01-06'"
    assert spark_project.sql(f"select {COLUMNS} from daily_loads.raw_partition_data {where}") == sorted(
        project.query(f"select {COLUMNS} from raw_partition_data {where}"))
    status = spark_project.runner(*on, "status", "--json", "--start", "2018-01-06", "--end", "2018-01-06")
    assert status.exit_code == 0, status.output
    on_spark = json.loads(status.stdout)[0]
    on_duckdb = project.status("--start", "2018-01-06", "--end", "2018-01-06")["2018-01-06"]
    assert on_spark["state"] == on_duckdb["state"] == "materialized"
    checks = [(warning["check"], warning["rows"]) for warning in on_spark["warnings"]]
    assert checks == [(warning["check"], warning["rows"]) for warning in on_duckdb["warnings"]]
    assert checks == [("dated_near_the_file", 2), ("volume_is_not_zero", 1)]


SPARK_REFUSED = {
    "0-byte file": ("", "empty file: no header"),
    "no header": (GOOD_ROW, "no header in"),
    "missing column": ("date,share_price,amount,spend,shift\n2018-01-07,1,1,1,1\n", "(missing spread)"),
    "UTF-16": ((HEADER + GOOD_ROW).encode("utf-16"), "not UTF-8 (UTF-16?)"),
    "11 decimals": (HEADER + "2018-01-07,10.00000000001,500,9.5,10.5,9\n", "more than 10 decimals"),
    "a tiny number with an exponent": (HEADER + "2018-01-07,10,1.5e-12,9.5,10.5,9\n", "more than 10 decimals"),
    "a digit separator": (HEADER + "2018-01-07,10,1_000,9.5,10.5,9\n", "unparseable number"),
}


@pytest.mark.parametrize("case", SPARK_REFUSED)
def test_a_refused_file_fails_as_on_duckdb_and_keeps_its_rows(spark_project, case):
    path = spark_project.file("2018-01-07")
    good = path.read_bytes()
    if not spark_project.rows("2018-01-07"):
        assert spark_project.runner("run", "2018-01-07").exit_code == 0
    loaded = spark_project.rows("2018-01-07")
    content, cause = SPARK_REFUSED[case]
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    try:
        result = spark_project.runner("run", "2018-01-07", "--retries", "0")
        assert result.exit_code == 1, result.output
        line = result.output.splitlines()[0]
        assert line.startswith("2018-01-07  failed  ") and cause in line and str(path) in line, line
        assert spark_project.rows("2018-01-07") == loaded and len(loaded) == 20
    finally:
        path.write_bytes(good)


def test_the_backfill_checks_the_warehouse_through_the_session(spark_project):
    assert spark_project.runner("run", "2018-01-08").exit_code == 0
    statement = "alter table daily_loads.raw_partition_data drop if exists partition (partition_date = '2018-01-08')"
    if spark_project.cluster:
        from pyhive import hive

        connection = hive.connect(host="127.0.0.1", port=spark_project.cluster.thrift_port)
        try:
            connection.cursor().execute(statement)
        finally:
            connection.close()
    else:
        spark_sql(statement)

    plan = spark_project.runner("backfill", "--start", "2018-01-08", "--end", "2018-01-08", "--dry-run", "--json")
    assert plan.exit_code == 0, plan.output
    assert [(item["state"], item["reason"]) for item in json.loads(plan.stdout)] == [
        ("stale", "warehouse has 0 rows of raw_partition_data, 20 were loaded")]
    assert spark_project.runner("backfill", "--start", "2018-01-08", "--end", "2018-01-08").exit_code == 0
    assert len(spark_project.rows("2018-01-08")) == 20
