"""Status proves the data: each partition's content is hashed by the engine when it is loaded, and
hashed again when the warehouse changed behind the runner's back or on `status --verify`."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from runner.content import Content, differs, hash_name
from runner.ledger import Ledger
from runner.project import load_project


def edit(project, sql: str) -> None:
    """A hand edit of the warehouse, outside the runner."""
    with duckdb.connect(str(project.warehouse)) as connection:
        connection.execute(sql)


def state(project, day: str, *args: str) -> tuple[str, str]:
    entry = project.status("--start", day, "--end", day, *args)[day]
    return entry["state"], entry["message"]


def recorded_content(project, day: str) -> list[tuple]:
    with duckdb.connect(str(project.ledger), read_only=True) as connection:
        return connection.execute(
            "select unique_id, rows_loaded, content_fingerprint from partition_runs where partition_date = ?"
            " and resource_type = 'model' order by unique_id", [day]).fetchall()


@pytest.fixture
def loaded(project):
    result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03")
    assert result.exit_code == 0, result.output
    return project


def test_each_loaded_model_records_its_partitions_content(loaded):
    recorded = recorded_content(loaded, "2018-01-02")
    assert [(name.split(".")[-1], rows) for name, rows, _ in recorded] == [
        ("daily_summary", 1), ("raw_partition_data", 20), ("stg_daily_files__quotes", 20)]
    prefix = hash_name("duckdb", duckdb.__version__) + ":"
    assert all(fingerprint.startswith(prefix) for _, _, fingerprint in recorded)
    # Another day holds other rows: another fingerprint.
    assert recorded_content(loaded, "2018-01-03")[1][2] != recorded[1][2]


@pytest.mark.parametrize("sql, model", [
    pytest.param("update raw_partition_data set close_price = close_price + 1 where partition_date = '2018-01-02'",
                 "raw_partition_data", id="a value changed"),
    pytest.param("delete from raw_partition_data where rowid = (select min(rowid) from raw_partition_data"
                 " where partition_date = '2018-01-02');"
                 "insert into raw_partition_data select * from raw_partition_data where partition_date = '2018-01-02' limit 1",
                 "raw_partition_data", id="a row swapped for a copy of another"),
    pytest.param("update daily_summary set total_volume = total_volume + 1 where partition_date = '2018-01-02'",
                 "daily_summary", id="a summary value changed"),
])
def test_a_hand_edit_with_the_same_counts_is_stale_and_the_nightly_backfill_reloads_it(loaded, sql, model):
    before = loaded.rows("2018-01-02")
    edit(loaded, sql)
    assert state(loaded, "2018-01-02") == ("stale", f"warehouse rows of {model} differ from what was loaded")
    assert state(loaded, "2018-01-01") == ("materialized", "OK")
    plan = loaded.runner("backfill", "--dry-run")
    assert plan.stdout.splitlines()[0].startswith("2018-01-02  stale")
    result = loaded.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03")
    assert result.exit_code == 0 and result.stdout.startswith("2018-01-02  loaded  20 rows")
    assert loaded.rows("2018-01-02") == before
    assert state(loaded, "2018-01-02") == ("materialized", "OK")


def test_an_older_copy_of_the_warehouse_restored_is_noticed_without_verify(loaded, tmp_path):
    shutil.copy2(loaded.warehouse, tmp_path / "yesterday.duckdb")  # same days, same counts
    original = loaded.file("2018-01-02").read_text()
    lines = original.splitlines()
    fields = lines[1].split(",")
    fields[1] = str(float(fields[1]) + 1)  # the day's file corrected: one price, same count
    loaded.file("2018-01-02").write_text("\n".join([lines[0], ",".join(fields), *lines[2:]]) + "\n")
    assert loaded.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03", "--settle", "0").exit_code == 0
    assert state(loaded, "2018-01-02") == ("materialized", "OK")

    shutil.copy(tmp_path / "yesterday.duckdb", loaded.warehouse)  # yesterday's backup put back
    # The first model in node order that differs is named (the summary holds the price too).
    assert state(loaded, "2018-01-02") == ("stale", "warehouse rows of daily_summary differ from what was loaded")
    assert state(loaded, "2018-01-01") == ("materialized", "OK")


def test_an_untouched_warehouse_is_counted_not_hashed_and_verify_hashes_it(loaded):
    edit(loaded, "update raw_partition_data set volume = volume + 1 where partition_date = '2018-01-03'")
    # As if the edit had left the file's size, time and identity as the runner's last write did (a
    # copy with its times kept, a clock set back): the runner trusts its mark and only counts ...
    project = load_project(str(loaded.root))
    Ledger(project.ledger_path).mark_warehouse(str(project.warehouse_path), project.engine.mark())
    assert state(loaded, "2018-01-03") == ("materialized", "OK")
    # ... and --verify hashes every partition again whatever the mark says.
    assert state(loaded, "2018-01-03", "--verify") == (
        "stale", "warehouse rows of raw_partition_data differ from what was loaded")
    assert state(loaded, "2018-01-02", "--verify") == ("materialized", "OK")
    # A load plans on content, never on the mark.
    assert loaded.runner("backfill", "--dry-run").stdout.splitlines()[0].startswith("2018-01-03  stale")


def test_content_is_compared_only_under_the_same_hash():
    assert differs("duckdb-2.0.1:5", Content(20, "duckdb-2.0.1:6"))
    assert not differs("duckdb-2.0.1:5", Content(20, "duckdb-2.0.1:5"))
    assert not differs("duckdb-1.4.0:5", Content(20, "duckdb-2.0.1:6"))  # another release hashes otherwise
    assert not differs(None, Content(20, "duckdb-2.0.1:6"))  # loaded before fingerprints were recorded
    assert not differs("duckdb-2.0.1:5", None)  # not hashed again
