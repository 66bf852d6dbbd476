"""Pure logic: reading run_results.json, one-line messages, fingerprints, partition dates."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from runner.artifacts import ArtifactError, node_name, one_line, partition_dates_of, read_run_results
from runner.daily_files import DailyFiles
from runner.fingerprints import code_fingerprint
from runner.partitions import date_range, parse_partition_date

DAILY = DailyFiles(Path("/d"))  # the daily files of the compiled SQL below

FIXTURE = Path(__file__).parent / "fixtures" / "run_results_failed.json"


def test_run_results_are_read_into_typed_results():
    results = read_run_results(FIXTURE)
    assert results.command == "build"
    assert results.partition_dates == [date(2018, 1, 22)]
    assert not results.ok
    assert results.counts() == {"error": 1, "skipped": 28}
    failed = results.nodes[0]
    assert (failed.unique_id, failed.resource_type, failed.status) == ("model.daily_loads.stg_daily_files__quotes", "model", "error")
    assert failed.started_at <= failed.completed_at


def test_a_multi_line_csv_error_becomes_one_line_with_its_file():
    message = read_run_results(FIXTURE).nodes[0].message
    assert "\n" not in message
    assert "Expected Number of Columns: 6 Found: 5" in message
    assert message.endswith("file data/source/2018-01-22.csv")
    assert "Possible fixes" not in message


def test_one_line_keeps_single_lines():
    assert one_line("Got 1 result, configured to fail if != 0") == "Got 1 result, configured to fail if != 0"
    assert one_line(None) is None


def test_a_spark_error_keeps_its_cause_and_drops_the_jvm_stack():
    message = (
        "Database Error\n  [FAILED_READ_FILE.NO_HINT] Encountered error while reading file file:///d/2018-01-02.csv.\n"
        "  at org.apache.spark.sql.errors.QueryExecutionErrors$.cannotReadFilesError(QueryExecutionErrors.scala:856)\n"
        "  at scala.collection.Iterator$$anon$10.hasNext(Iterator.scala:593)\n  ... 17 more\n"
        "  Encountered error while reading file file:///d/2018-01-02.csv.\n"
        "JVM stacktrace:\norg.apache.spark.SparkException: Job aborted\n"
    )
    assert one_line(message) == (
        "Database Error | [FAILED_READ_FILE.NO_HINT] Encountered error while reading file file:///d/2018-01-02.csv."
    )


def test_a_thrift_server_error_drops_its_wrapper_and_the_repeated_cause():
    """A Spark Thrift server wraps the error in its own exception and repeats the cause after it."""
    read_error = "org.apache.spark.SparkException: [FAILED_READ_FILE.NO_HINT] Encountered error while reading file file:///d/2018-01-02.csv."
    message = (
        "Database Error\n"
        f"  org.apache.hive.service.cli.HiveSQLException: Error running query: [FAILED_READ_FILE.NO_HINT] {read_error}\n"
        "  at org.apache.spark.sql.hive.thriftserver.HiveThriftServerErrors$.runningQueryError(HiveThriftServerErrors.scala:43)\n"
        f"  Caused by: {read_error}\n"
        "  at org.apache.spark.sql.errors.QueryExecutionErrors$.cannotReadFilesError(QueryExecutionErrors.scala:920)\n"
        "  Caused by: org.apache.spark.SparkException: [MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION] Malformed records are detected\n"
    )
    assert one_line(message) == (
        f"Database Error | {read_error} | Caused by: org.apache.spark.SparkException: "
        "[MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION] Malformed records are detected"
    )


def test_not_a_run_results_file_is_an_artifact_error(tmp_path):
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ArtifactError, match="not a dbt run_results.json"):
        read_run_results(tmp_path / "x.json")
    with pytest.raises(ArtifactError, match="no such file"):
        read_run_results(tmp_path / "missing.json")


def test_partition_dates_come_from_either_var():
    assert partition_dates_of({"partition_date": "2018-01-22"}) == [date(2018, 1, 22)]
    assert partition_dates_of({"partition_date": date(2018, 1, 22)}) == [date(2018, 1, 22)]
    assert partition_dates_of({"partition_dates": ["2018-01-23", "2018-01-22"]}) == [date(2018, 1, 22), date(2018, 1, 23)]
    assert partition_dates_of({}) == []


def test_code_fingerprint_ignores_dates_and_chunking_but_not_code():
    one = "select * from read_csv(['/d/2018-01-01.csv']) where partition_date in (date '2018-01-01')"
    other_day = "select * from read_csv(['/d/2018-01-09.csv']) where partition_date in (date '2018-01-09')"
    chunk = (
        "select * from read_csv(['/d/2018-01-01.csv', '/d/2018-01-02.csv'])"
        " where partition_date in (date '2018-01-01', date '2018-01-02')"
    )
    changed = "select *, 1 from read_csv(['/d/2018-01-01.csv']) where partition_date in (date '2018-01-01')"
    assert code_fingerprint(one, DAILY) == code_fingerprint(other_day, DAILY) == code_fingerprint(chunk, DAILY)
    assert code_fingerprint(changed, DAILY) != code_fingerprint(one, DAILY)


def test_partition_dates_are_strict():
    assert parse_partition_date("2018-01-22") == date(2018, 1, 22)
    for bad in ["2018-02-30", "2018-1-2", "yesterday", "2018-01-22'; --", "../2018-01-22"]:
        with pytest.raises(ValueError):
            parse_partition_date(bad)
    assert date_range(date(2018, 1, 30), date(2018, 2, 1)) == [date(2018, 1, 30), date(2018, 1, 31), date(2018, 2, 1)]


def test_node_names_are_the_names_people_know():
    assert node_name("model.daily_loads.raw_partition_data") == "raw_partition_data"
    assert node_name("test.daily_loads.stg_quotes_high_is_the_top.3f2a1b") == "stg_quotes_high_is_the_top"
