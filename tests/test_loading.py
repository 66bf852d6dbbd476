"""Loading partitions end to end: real dbt, real DuckDB, files in a temporary folder."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

HEADER = "date,share_price,amount,spend,shift,spread\n"


def test_run_loads_exactly_one_partition(project):
    result = project.runner("run", "2018-01-02")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2018-01-02  loaded  20 rows")
    assert project.query("select distinct partition_date::varchar from raw_partition_data") == [("2018-01-02",)]
    assert project.query("select quote_count from daily_summary where partition_date = '2018-01-02'") == [(20,)]


def test_rerun_is_idempotent(project):
    assert project.runner("run", "2018-01-02").exit_code == 0
    first = project.rows("2018-01-02")
    assert project.runner("run", "2018-01-02").exit_code == 0
    assert project.rows("2018-01-02") == first
    assert len(first) == 20


def test_backfill_loads_the_range_in_order(project):
    result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03")
    assert result.exit_code == 0, result.output
    assert [line[:10] for line in result.output.splitlines()[:3]] == ["2018-01-01", "2018-01-02", "2018-01-03"]
    assert project.query(
        "select partition_date::varchar, count(*) from raw_partition_data group by 1 order by 1"
    ) == [("2018-01-01", 20), ("2018-01-02", 20), ("2018-01-03", 20)]


def test_changed_file_replaces_the_day(project):
    assert project.runner("run", "2018-01-02").exit_code == 0
    project.file("2018-01-02").write_text(HEADER + "2018-01-02,10.0000,500.0000,9.5000,10.5000,9.0000\n")
    assert project.runner("run", "2018-01-02").exit_code == 0
    assert project.query("select close_price, volume from raw_partition_data") == [(Decimal("10"), Decimal("500"))]


def test_shrunk_file_leaves_no_stale_rows(project):
    assert project.runner("run", "2018-01-02").exit_code == 0
    lines = project.file("2018-01-02").read_text().splitlines()
    project.file("2018-01-02").write_text("\n".join(lines[:4]) + "\n")
    assert project.runner("run", "2018-01-02").exit_code == 0
    assert len(project.rows("2018-01-02")) == 3


def test_empty_file_leaves_no_stale_rows(project):
    assert project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-02").exit_code == 0
    project.file("2018-01-02").write_text(HEADER)
    result = project.runner("run", "2018-01-02")
    assert result.exit_code == 0, result.output
    assert project.rows("2018-01-02") == []
    assert len(project.rows("2018-01-01")) == 20
    assert project.query("select quote_count from daily_summary where partition_date = '2018-01-02'") == [(0,)]
    assert project.status()["2018-01-02"]["rows"] == 0


def test_rows_dated_before_their_file_stay_in_the_files_partition(project):
    project.file("2018-01-03").write_text(
        HEADER + "2018/01/01,10.0000,500.0000,9.5000,10.5000,9.0000\n2018-01-02,11.0000,1.0000,10.5000,11.5000,10.0000"
    )
    assert project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03").exit_code == 0
    assert project.runner("run", "2018-01-03").exit_code == 0
    assert project.query(
        "select partition_date::varchar, quote_date::varchar from raw_partition_data"
        " where partition_date = '2018-01-03' order by 2"
    ) == [("2018-01-03", "2018-01-01"), ("2018-01-03", "2018-01-02")]
    assert len(project.rows("2018-01-01")) == 20


def test_large_numbers_keep_full_precision(project):
    project.file("2018-01-02").write_text(
        '"date","share_price","amount","spend","shift","spread"\n'
        "2018-01-02,1234.5678,33597290123.0001,1234.5600,1300.0000,1200.1234"
    )
    assert project.runner("run", "2018-01-02").exit_code == 0
    assert project.query("select volume, low_price from raw_partition_data") == [(Decimal("33597290123.0001"), Decimal("1200.1234"))]


def test_backfill_equals_an_independent_reading_of_the_same_files(project):
    """The oracle is Python's csv and decimal on the raw files, not the model's own casts."""
    assert project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-05").exit_code == 0
    loaded = project.query(
        "select partition_date, quote_date, open_price, high_price, low_price, close_price, volume"
        " from raw_partition_data order by all"
    )
    expected = sorted(row for path in sorted(project.source_dir.glob("*.csv")) for row in read_like_a_person(path))
    assert loaded == expected
    assert len(loaded) == 5 * 20


def read_like_a_person(path):
    """A daily file's rows as (partition, quote date, open, high, low, close, volume), by header name."""
    import csv
    from datetime import datetime
    from decimal import Decimal

    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        names = [name.strip().strip('"').lower() for name in next(reader)]
        for values in reader:
            row = dict(zip(names, values))
            written = row["date"].replace("/", "-")
            yield (
                date.fromisoformat(path.stem),
                datetime.strptime(written, "%Y-%m-%d").date(),
                *(Decimal(row[name]) for name in ("spend", "shift", "spread", "share_price", "amount")),
            )


def test_real_shaped_files_load_as_an_independent_reading_of_them_says(project):
    """Files shaped like real ones: a reordered quoted header in capitals, dates without leading
    zeros in both formats, rows dated months away, no trailing newline."""
    project.file("2018-01-02").write_text(
        '"SPREAD","date","Amount","share_price","spend","shift"\n'
        "9.5,2018/9/28,1000.25,10.5,10,11\n"
        "1.0000000001,2018-10-1,0,1.5,1.25,2\n"
        "3,2017-6-30,12345678901234.5678,3.5,3.25,4"
    )
    project.file("2018-01-03").write_text("date,share_price,amount,spend,shift,spread\n2018-1-3,10.5,500,10,11,9.5\n")
    assert project.runner("backfill", "--start", "2018-01-02", "--end", "2018-01-03").exit_code == 0
    loaded = project.query(
        "select partition_date, quote_date, open_price, high_price, low_price, close_price, volume"
        " from raw_partition_data order by all"
    )
    expected = sorted(row for day in ("2018-01-02", "2018-01-03") for row in read_like_a_person(project.file(day)))
    assert loaded == expected and len(loaded) == 4
