"""Bad input: one clear line naming the partition, the file and the cause; loaded data intact."""

from __future__ import annotations

import pytest

HEADER = "date,share_price,amount,spend,shift,spread\n"
GOOD_ROW = "2018-01-02,10.0000,500.0000,9.5000,10.5000,9.0000\n"

BAD_FILES = {
    "wrong column count": (HEADER + GOOD_ROW + "2018-01-02,10.0000,500.0000,9.5000,10.5000\n", "Expected Number of Columns: 6 Found: 5"),
    "malformed row": (HEADER + GOOD_ROW + '2018-01-02,"10.0000,500.0000,9.5000,10.5000,9.0000\n', "CSV Error"),
    "bad number": (HEADER + "2018-01-02,ten,500.0000,9.5000,10.5000,9.0000\n", "unparseable number in"),
    "bad date": (HEADER + "2018-13-45,10.0000,500.0000,9.5000,10.5000,9.0000\n", "unparseable date in"),
    "failed test of the new data": (HEADER + "2018-01-02,10.0000,500.0000,9.5000,8.0000,9.0000\n", "stg_quotes_are_possible failed in "),
}


@pytest.fixture
def loaded(project):
    """2018-01-02 loaded once: the rows every failure below must leave exactly as they were."""
    assert project.runner("run", "2018-01-02").exit_code == 0
    return project.rows("2018-01-02")


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_file_fails_the_partition_and_keeps_its_rows(project, loaded, case):
    content, cause = BAD_FILES[case]
    project.file("2018-01-02").write_text(content)

    result = project.runner("run", "2018-01-02")

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    line = result.output.splitlines()[0]
    assert line.startswith("2018-01-02  failed  ")
    assert cause in line
    if case != "failed test of the new data":
        assert "2018-01-02.csv" in line
    assert project.rows("2018-01-02") == loaded
    status = project.status("--start", "2018-01-02", "--end", "2018-01-02")["2018-01-02"]
    assert status["state"] == "failed"
    assert cause in status["message"]


def test_a_missing_file_runs_nothing_and_keeps_the_partitions_rows(project, loaded):
    project.file("2018-01-02").unlink()

    result = project.runner("run", "2018-01-02")

    assert (result.exit_code, result.stdout) == (0, "")  # nothing to load is no failure: the file may come yet
    assert result.stderr == f"2018-01-02: no file at {project.file('2018-01-02')} yet: the partition awaits it (nothing run)\n"
    assert project.rows("2018-01-02") == loaded


def test_backfill_goes_on_past_a_failure_and_lists_it(project):
    project.file("2018-01-02").write_text(HEADER + "2018-01-02,ten,1,1,1,1\n")

    result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03")

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert [line[:18] for line in lines[:3]] == ["2018-01-01  loaded", "2018-01-02  failed", "2018-01-03  loaded"]
    assert lines[3].startswith("2 loaded, 1 failed in ")
    assert lines[4] == (f"  failed 2018-01-02: stg_daily_files__quotes: Invalid Input Error: unparseable number in "
                        f"{project.file('2018-01-02')} (column share_price): 'ten'")


@pytest.mark.parametrize("bad, why", [("2018-02-30", "is not a real calendar date (day is out of range for month)"),
                                      ("yesterday", "is not a date written YYYY-MM-DD"),
                                      ("2018-1-2", "is not a date written YYYY-MM-DD"),
                                      ("../2018-01-01", "is not a date written YYYY-MM-DD")])
def test_bad_dates_are_usage_errors(project, bad, why):
    result = project.runner("run", bad)
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == f"Error: Invalid value for 'PARTITION': '{bad}' {why}"
    assert not project.warehouse.exists()


def test_start_after_end_is_a_usage_error(project):
    result = project.runner("backfill", "--start", "2018-01-03", "--end", "2018-01-01")
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == "Error: --start 2018-01-03 is after --end 2018-01-01"


@pytest.mark.parametrize("bad, why", [("0", "0.0 is not in the range x>0."), ("-1", "-1.0 is not in the range x>0."),
                                      ("inf", "inf is not a number of megabytes"), ("nan", "nan is not a number of megabytes"),
                                      ("1e400", "inf is not a number of megabytes"), ("lots", "'lots' is not a valid float range.")])
def test_a_chunk_of_no_megabytes_is_a_usage_error(project, bad, why):
    result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-02", "--chunk-mb", bad)
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == f"Error: Invalid value for '--chunk-mb': {why}"
    assert not project.warehouse.exists()


@pytest.mark.parametrize(
    "value, message",
    [
        ("'2018-02-30'", "must be a real calendar date written YYYY-MM-DD, got \"2018-02-30\""),
        ("yesterday", "must be a real calendar date written YYYY-MM-DD, got \"yesterday\""),
        ("\"2018-01-01'); drop table raw_partition_data; --\"", "must be a real calendar date"),
        ("../../etc/passwd", "must be a real calendar date"),
    ],
)
def test_dbt_rejects_a_bad_partition_var_at_compile_time(project, loaded, value, message):
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(
        ["build", "--project-dir", str(project.root), "--profiles-dir", str(project.root),
         "--vars", "{partition_date: " + value + "}", "--log-level", "none"]
    )
    # What dbt's command line exits 2 for: an exception, no results (a handled failure, exit 1, has results).
    assert (result.success, result.result, type(result.exception).__name__) == (False, None, "CompilationError")
    assert message in str(result.exception)
    assert project.rows("2018-01-02") == loaded


def test_dbt_run_without_the_var_names_it_and_shows_the_syntax(project):
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(
        ["run", "--project-dir", str(project.root), "--profiles-dir", str(project.root), "--log-level", "none"]
    )
    # dbt's command line exits 1 for this: a handled failure, with each node's result.
    assert (result.success, result.exception) == (False, None)
    messages = " ".join(node.message or "" for node in result.result.results)
    assert "The var 'partition_date' is required" in messages
    assert "dbt run --vars '{partition_date: 2018-01-22}'" in messages
