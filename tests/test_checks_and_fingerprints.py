"""Pure logic, no dbt: what a check found per partition, the code fingerprint of the header-driven
reader, and which seed changed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from runner.artifacts import NodeResult
from runner.checks import describe, found_by_partition, offending_rows_query
from runner.daily_files import DailyFiles
from runner.fingerprints import code_fingerprint
from runner.ledger import PartitionRun
from runner.recording import check_outcome
from runner.seeds import as_text, changed_seed
from runner.states import warnings_of

DAILY = DailyFiles(Path("/d"))  # the daily files of the compiled SQL below

COLUMNS = ["partition_date", "quote_date", "volume", "source_file", "runner_row", "runner_rows"]


def read(files: list[str], columns: list[str]) -> str:
    """A read like default__read_partition_files renders, for one header order."""
    listed = ", ".join(f"'{path}'" for path in files)
    named = ", ".join(f"'{name}': 'varchar'" for name in columns)
    return (f"(select date, share_price, filename from read_csv(/* data: */[{listed}]/* :data */, header = true,"
            f" columns = /* data: */{{{named}}}/* :data */))")


def compiled(*reads: str, strict: str = "true") -> str:
    return f"select * from ({' union all '.join(reads)}) where strict = {strict}"


def test_the_reader_fingerprint_ignores_the_files_and_their_column_order():
    one = compiled(read(["/d/2018-01-01.csv"], ["date", "share_price"]))
    many = compiled(read(["/d/2018-01-01.csv", "/d/2018-01-03.csv"], ["date", "share_price"]),
                    read(["/d/2018-01-02.csv"], ["share_price", "date"]))
    assert code_fingerprint(one, DAILY) == code_fingerprint(many, DAILY)
    assert code_fingerprint(one, DAILY) != code_fingerprint(compiled(read(["/d/2018-01-01.csv"], ["date"]), strict="false"), DAILY)


def test_what_a_check_found_is_split_by_partition():
    rows = [
        (date(2018, 1, 2), date(2018, 10, 1), Decimal("-5000.0000000000"), "/d/2018-01-02.csv", 1, 3),
        (date(2018, 1, 2), date(2018, 10, 2), Decimal("-1.5000000000"), "/d/2018-01-02.csv", 2, 3),
        (date(2018, 1, 4), date(2018, 1, 4), Decimal("-7"), "/d/2018-01-04.csv", 1, 1),
    ]
    found = found_by_partition(COLUMNS, rows)
    assert {day: entry.rows for day, entry in found.items()} == {date(2018, 1, 2): 3, date(2018, 1, 4): 1}
    assert describe("stg_quotes_volume_is_not_negative", "failed", found[date(2018, 1, 2)], "/d/x.csv") == (
        "stg_quotes_volume_is_not_negative failed for 3 rows of /d/2018-01-02.csv: quote_date=2018-10-01 volume=-5000;"
        " quote_date=2018-10-02 volume=-1.5 (and 1 more)")
    assert "row_number() over (partition by partition_date" in offending_rows_query("select * from t;")


def test_a_test_of_several_rules_names_each_rule_with_its_count_and_first_rows():
    columns = ["partition_date", "volume", "source_file", "broken_rule", "runner_row", "runner_rows"]
    rows = [
        (date(2018, 1, 2), Decimal("-5"), "/d/2018-01-02.csv", "volume_is_not_negative", 1, 3),
        (date(2018, 1, 2), Decimal("-6"), "/d/2018-01-02.csv", "volume_is_not_negative", 2, 3),
        (date(2018, 1, 2), Decimal("0"), "/d/2018-01-02.csv", "prices_are_positive", 1, 1),
        (date(2018, 1, 4), Decimal("-7"), "/d/2018-01-04.csv", "volume_is_not_negative", 1, 1),
    ]
    found = found_by_partition(columns, rows)
    assert {day: (entry.rows, entry.by_rule) for day, entry in found.items()} == {
        date(2018, 1, 2): (4, {"prices_are_positive": 1, "volume_is_not_negative": 3}),
        date(2018, 1, 4): (1, {"volume_is_not_negative": 1})}
    assert describe("stg_quotes_are_possible", "failed", found[date(2018, 1, 2)], "/d/x.csv") == (
        "stg_quotes_are_possible failed in /d/2018-01-02.csv: prices_are_positive (1 row): volume=0;"
        " volume_is_not_negative (3 rows): volume=-5; volume=-6 (and 1 more)")
    # The first rows of each rule, not of the partition: a rule with few rows is not crowded out.
    query = offending_rows_query("select *, 'a' as broken_rule from t")
    assert "partition by partition_date, broken_rule" in query
    assert "partition by partition_date)" in offending_rows_query("select * from t")


def test_a_warning_test_of_several_rules_is_one_warning_per_rule():
    common = dict(partition_date=date(2018, 1, 2), invocation_id="i", resource_type="test", status="warn",
                  message="m", execution_time=0.1, started_at=None, completed_at=None, rows_loaded=None,
                  source_file=None, source_fingerprint=None, code_fingerprint=None, recorded_at=datetime(2026, 1, 1))
    runs = [PartitionRun(unique_id="test.p.stg_quotes_are_plausible.1a", failures=3,
                         failures_by_rule='{"dated_near_the_file": 2, "volume_is_not_zero": 1}', **common),
            PartitionRun(unique_id="test.p.one_rule.2b", failures=4, **common)]
    assert [warning.as_dict() for warning in warnings_of(runs)] == [
        {"check": "one_rule", "test": "one_rule", "rows": 4, "message": "m"},
        {"check": "dated_near_the_file", "test": "stg_quotes_are_plausible", "rows": 2, "message": "m"},
        {"check": "volume_is_not_zero", "test": "stg_quotes_are_plausible", "rows": 1, "message": "m"}]


def test_a_check_that_found_nothing_in_a_partition_passed_there():
    node = NodeResult("test.daily_loads.stg_quotes_dated_near_the_file.1a", "test", "warn", "Got 4 results", 4, 0.1,
                      datetime(2026, 1, 1), datetime(2026, 1, 1), None, "select 1")
    found = found_by_partition(COLUMNS, [(date(2018, 1, 2), date(2017, 6, 1), Decimal("1"), "/d/2018-01-02.csv", 1, 4)])
    status, message, failures, _ = check_outcome(node, date(2018, 1, 2), "/d/2018-01-02.csv", found)
    assert (status, failures) == ("warn", 4) and message.startswith("stg_quotes_dated_near_the_file warned for 4 rows of")
    assert check_outcome(node, date(2018, 1, 3), "/d/2018-01-03.csv", found) == ("pass", None, 0, {})
    assert check_outcome(node, date(2018, 1, 3), "/d/2018-01-03.csv", None) == ("warn", "Got 4 results", 4, {})


def test_the_changed_seed_is_named():
    then = as_text({"nyse_holidays": "a", "calendar": "b"})
    assert changed_seed(then, {"nyse_holidays": "a", "calendar": "b"}) is None
    assert changed_seed(then, {"nyse_holidays": "c", "calendar": "b"}) == "nyse_holidays"
    assert changed_seed(then, {"nyse_holidays": "a"}) == "calendar"
    assert changed_seed(None, {"nyse_holidays": "a"}) is None  # recorded before seeds were
