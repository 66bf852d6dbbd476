"""The same runner, unchanged, on a dbt project nobody would mistake for this one (tests/projects/sales):
other models and names, Parquet files in dated folders (`%Y/%m/sales_%Y%m%d.parquet`), its own
partitions in another time zone, its own profile. Checked against an oracle that reads the files
with DuckDB directly and shares no code with the runner."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from test_watch import Watching

from runner.cli import cli
from runner.project import load_project

SALES = Path(__file__).resolve().parent / "projects" / "sales"
DAYS = [date(2024, 2, 26) + timedelta(days=n) for n in range(8)]  # the project's partitions: Feb 26 to Mar 4
FEBRUARY = [day for day in DAYS if day.month == 2]


@dataclass
class Sales:
    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse" / "sales.duckdb"  # where its profile puts it

    def file(self, day: date, landing: Path | None = None) -> Path:
        return (landing or self.landing) / f"{day:%Y}" / f"{day:%m}" / f"sales_{day:%Y%m%d}.parquet"

    def write(self, day: date, sales: int, landing: Path | None = None, null_amount: bool = False) -> Path:
        """A day's Parquet file of `sales` rows (each store sells), written with DuckDB alone."""
        path = self.file(day, landing)
        path.parent.mkdir(parents=True, exist_ok=True)
        amount = "null" if null_amount else "round(1.5 + n * 0.25, 2)"
        duckdb.sql(f"""copy (select timestamp '{day} 09:00:00' + n * interval 1 minute as sold_at,
                                    'store-' || (n % 3) as store, 'sku-' || n as sku, 1 + n % 4 as quantity,
                                    {amount} as amount
                             from range({sales}) as t(n)) to '{path}' (format parquet)""")
        return path

    def runner(self, *args: str):
        return CliRunner().invoke(cli, ["--project-dir", str(self.root), *args])

    def status(self, *args: str) -> dict[str, dict]:
        result = self.runner("status", "--json", *args)
        assert result.exit_code == 0, result.output
        return {entry["partition_date"]: entry for entry in json.loads(result.stdout)}

    def held(self, day: date) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as connection:
            return connection.execute("select sold_at, store, sku, quantity, amount from sale_lines "
                                      "where partition_date = ? order by sku", [day]).fetchall()


def in_the_file(path: Path) -> list[tuple]:
    """The oracle: the file as DuckDB reads it, typed as the model promises."""
    return duckdb.sql(f"select sold_at::timestamp, store, sku, quantity::integer, amount::decimal(12, 2) "
                      f"from read_parquet('{path}') order by sku").fetchall()


@pytest.fixture
def sales(tmp_path, monkeypatch) -> Sales:
    root = tmp_path / "sales"
    shutil.copytree(SALES, root)
    for name in ("WAREHOUSE_PATH", "LEDGER_PATH", "DBT_TARGET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(root)
    return Sales(root)


def test_the_runner_loads_backfills_and_shows_another_project_file_by_file(sales):
    for number, day in enumerate(DAYS):
        if day != date(2024, 3, 3):  # one day never arrives
            sales.write(day, sales=5 + number)

    loaded = sales.runner("backfill")
    assert loaded.exit_code == 0, loaded.output
    assert "7 loaded, 0 failed" in loaded.output
    assert sales.warehouse.is_file()  # the profile's own default path, not this repository's

    status = sales.status()
    assert list(status) == [day.isoformat() for day in DAYS]
    assert status["2024-03-03"]["state"] == "late"  # its day closed (Europe/Paris) more than 6h ago
    for number, day in enumerate(DAYS):
        if day != date(2024, 3, 3):
            assert status[day.isoformat()]["state"] == "materialized"
            assert status[day.isoformat()]["rows"] == 5 + number
            assert sales.held(day) == in_the_file(sales.file(day))

    # A corrected file: that day alone is stale, then reloaded by the next backfill, exactly.
    sales.write(date(2024, 2, 29), sales=2)
    assert [day for day, entry in sales.status().items() if entry["state"] == "stale"] == ["2024-02-29"]
    again = sales.runner("backfill")
    assert again.exit_code == 0, again.output
    assert "1 loaded, 0 failed" in again.output
    assert sales.held(date(2024, 2, 29)) == in_the_file(sales.file(date(2024, 2, 29)))
    assert sales.status("--verify")["2024-02-29"] == {**sales.status()["2024-02-29"]}
    assert sales.status("--verify")["2024-02-29"]["state"] == "materialized"

    # A bad file fails its own partition (the project's not_null test) and leaves the others as they were.
    # (Its rows are in, as dbt's tests run after the model: the state says the partition failed.)
    others = {day: sales.held(day) for day in DAYS if day != date(2024, 3, 1)}
    sales.write(date(2024, 3, 1), sales=4, null_amount=True)
    failed = sales.runner("run", "2024-03-01")
    assert failed.exit_code == 1, failed.output
    assert "2024-03-01" in failed.output and "not_null_sale_lines_amount" in failed.output
    assert sales.status()["2024-03-01"]["state"] == "failed"
    assert {day: sales.held(day) for day in others} == others
    assert sales.status("--model", "store_day_totals")["2024-02-26"]["state"] == "materialized"


def test_a_file_elsewhere_in_the_landing_folder_is_not_a_partition(sales):
    sales.write(date(2024, 2, 26), sales=3)
    stray = sales.landing / "2024" / "02" / "sales_20240226.csv"
    stray.write_text("not a daily file\n")
    misplaced = sales.write(date(2024, 2, 27), sales=3, landing=sales.landing / "2024" / "03")  # under March
    assert misplaced.parent.name == "02"  # written under landing/2024/03/2024/02: no partition's path
    loaded = sales.runner("backfill", "--start", "2024-02-26", "--end", "2024-02-27")
    assert loaded.exit_code == 0, loaded.output
    status = sales.status("--start", "2024-02-26", "--end", "2024-02-27")
    assert [status[day]["state"] for day in ("2024-02-26", "2024-02-27")] == ["materialized", "late"]


def test_the_watcher_loads_a_months_folder_moved_into_place(sales, tmp_path):
    for day in FEBRUARY:
        sales.write(day, sales=3)
    watcher = Watching(sales, "--settle", "30")
    try:
        watcher.until("watching")
        assert sorted(event["partition_date"] for event in watcher.loads()) == [day.isoformat() for day in FEBRUARY]
        # March's folder, written elsewhere and moved in whole: its files have no events of their own.
        staging = tmp_path / "staging"
        for day in (date(2024, 3, 1), date(2024, 3, 2)):
            sales.write(day, sales=6, landing=staging)
        os.rename(staging / "2024" / "03", sales.landing / "2024" / "03")
        for day in ("2024-03-01", "2024-03-02"):
            loaded = watcher.until("load", partition_date=day)
            assert (loaded["outcome"], loaded["rows"]) == ("loaded", 6)
        assert watcher.stop() == 0
    finally:
        if watcher.process.poll() is None:
            watcher.finish()
    assert sales.held(date(2024, 3, 2)) == in_the_file(sales.file(date(2024, 3, 2)))
    assert sales.status()["2024-03-02"]["state"] == "materialized"


def test_the_partitioned_models_are_dbts_own_resolution_remembered_for_status(sales):
    # A config no reading of the files can follow: dbt materializes it incremental, its first literal says table.
    model = sales.root / "models" / "store_day_totals.sql"
    model.write_text("{{ config(materialized='table' if var('never', false) else 'incremental') }}\n" + model.read_text())
    for day in DAYS[:2]:
        sales.write(day, sales=3)
    assert load_project(str(sales.root)).models.incremental == ("sale_lines",)  # before any parse: the files' reading
    assert sales.runner("backfill", "--start", "2024-02-26", "--end", "2024-02-27").exit_code == 0
    # The backfill's parse resolved them: every later command reads dbt's answer, without dbt.
    assert load_project(str(sales.root)).models.incremental == ("sale_lines", "store_day_totals")
    with duckdb.connect(str(sales.warehouse)) as connection:  # behind the runner's back
        connection.execute("delete from store_day_totals where partition_date = date '2024-02-27'")
    status = sales.status("--start", "2024-02-26", "--end", "2024-02-27")
    assert [status[day]["state"] for day in ("2024-02-26", "2024-02-27")] == ["materialized", "stale"]
    assert status["2024-02-27"]["stale_reasons"] == ["warehouse_rows_differ"]
