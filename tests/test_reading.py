"""Files read right: columns by header name, real-shaped files load, no value changes silently,
and every refusal names the file and the cause while the partition keeps its previous rows."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

HEADER = "date,share_price,amount,spend,shift,spread"
# One good row, by column name: close, volume, open, high, low.
ROW = {"date": "2018-01-02", "share_price": "10.5000", "amount": "500.0000", "spend": "10.0000", "shift": "11.0000",
       "spread": "9.5000"}


def csv_text(header: list[str], rows: list[dict], header_line: str | None = None) -> str:
    lines = [header_line if header_line is not None else ",".join(header)]
    lines += [",".join(row[name] for name in header) for row in rows]
    return "\n".join(lines) + "\n"


def summary(project, day: str) -> list[tuple]:
    return project.query("select * from daily_summary where partition_date = ?", [day])


@pytest.fixture
def loaded(project):
    """2018-01-02 loaded once; each refusal below must leave its rows, and its summary, as they are."""
    assert project.runner("run", "2018-01-02").exit_code == 0
    return project.rows("2018-01-02"), summary(project, "2018-01-02")


def test_a_reordered_quoted_header_maps_every_value_to_its_column(project):
    rows = [ROW, {**ROW, "share_price": "10.7500", "amount": "42.1250"}]
    project.file("2018-01-02").write_text(csv_text(HEADER.split(","), rows))
    assert project.runner("run", "2018-01-02").exit_code == 0
    in_order = project.rows("2018-01-02")

    reordered = ["date", "spend", "amount", "share_price", "shift", "spread"]
    header = ",".join(f'"{name.upper()}"' for name in reordered)  # quoted and in capitals
    project.file("2018-01-02").write_text(csv_text(reordered, rows, header).rstrip("\n"))  # no trailing newline
    result = project.runner("run", "2018-01-02")

    assert result.exit_code == 0, result.output
    assert project.rows("2018-01-02") == in_order
    assert project.query(
        "select open_price, high_price, low_price, close_price, volume from raw_partition_data order by close_price"
    ) == [(Decimal("10"), Decimal("11"), Decimal("9.5"), Decimal("10.5"), Decimal("500")),
          (Decimal("10"), Decimal("11"), Decimal("9.5"), Decimal("10.75"), Decimal("42.125"))]


def test_files_of_different_column_orders_load_together_in_one_chunk(project):
    reordered = ["spread", "shift", "spend", "amount", "share_price", "date"]
    project.file("2018-01-03").write_text(csv_text(reordered, [{**ROW, "date": "2018-01-03"}]))
    result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-05")
    assert result.exit_code == 0, result.output
    assert project.query("select open_price, high_price, low_price, close_price, volume from raw_partition_data"
                         " where partition_date = '2018-01-03'") == [
        (Decimal("10"), Decimal("11"), Decimal("9.5"), Decimal("10.5"), Decimal("500"))]
    # One invocation for the five days: the column order is data, not code.
    assert len({entry["invocation_id"] for entry in project.status("--start", "2018-01-01", "--end", "2018-01-05").values()}) == 1


REFUSED = {
    "0-byte file": ("", "empty file: no header"),
    "no header": (csv_text(HEADER.split(","), [ROW]).split("\n", 1)[1], "no header in"),
    "missing column": (csv_text(HEADER.split(",")[:5], [ROW]), "(missing spread)"),
    "unknown column": (csv_text([*HEADER.split(","), "note"], [{**ROW, "note": "x"}]), 'unknown "note"'),
    "duplicated column": (
        csv_text(HEADER.split(","), [ROW], header_line="date,share_price,amount,spend,shift,date"), "missing spread; duplicated date"),
    "UTF-16": (csv_text(HEADER.split(","), [ROW]).encode("utf-16"), "not UTF-8 (UTF-16?)"),
    "11 decimals": (csv_text(HEADER.split(","), [{**ROW, "amount": "500.12345678901"}]), "more than 10 decimals"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_refused_file_fails_naming_the_file_and_keeps_the_previous_rows(project, loaded, case):
    content, cause = REFUSED[case]
    path = project.file("2018-01-02")
    path.write_bytes(content if isinstance(content, bytes) else content.encode())

    result = project.runner("run", "2018-01-02")

    assert result.exit_code == 1
    line = result.output.splitlines()[0]
    assert line.startswith("2018-01-02  failed  ") and cause in line and str(path) in line, line
    assert (project.rows("2018-01-02"), summary(project, "2018-01-02")) == loaded
    status = project.status("--start", "2018-01-02", "--end", "2018-01-02")["2018-01-02"]
    assert status["state"] == "failed" and cause in status["message"]


def test_a_header_only_file_empties_the_day(project, loaded):
    project.file("2018-01-02").write_text(HEADER + "\n")
    assert project.runner("run", "2018-01-02").exit_code == 0
    assert project.rows("2018-01-02") == []
    assert project.query("select quote_count from daily_summary where partition_date = '2018-01-02'") == [(0,)]


def test_ten_decimals_are_stored_exactly(project):
    project.file("2018-01-02").write_text(csv_text(HEADER.split(","), [
        {**ROW, "share_price": "10.27629999", "amount": "123456789012345678.0123456789", "spread": "9.5000000000"}]))
    assert project.runner("run", "2018-01-02").exit_code == 0
    assert project.query("select close_price, volume, low_price from raw_partition_data") == [
        (Decimal("10.27629999"), Decimal("123456789012345678.0123456789"), Decimal("9.5"))]


# Each blocking rule, broken by one row: (the row, the rule, what the message shows of the row).
BLOCKING = {
    "high below the close": ({"shift": "10.1000"}, "high_is_the_top", "high_price=10.1"),
    "low above the open": ({"spread": "10.2000"}, "low_is_the_bottom", "low_price=10.2"),
    "a zero price": ({"spread": "0", "spend": "0.0000"}, "prices_are_positive", "open_price=0"),
    "negative volume": ({"amount": "-5000"}, "volume_is_not_negative", "volume=-5000"),
}


@pytest.mark.parametrize("case", BLOCKING)
def test_each_blocking_check_names_the_file_and_shows_the_row(project, loaded, case):
    change, rule, shown = BLOCKING[case]
    path = project.file("2018-01-02")
    path.write_text(csv_text(HEADER.split(","), [ROW, {**ROW, "date": "2018/10/01", **change}]))

    result = project.runner("run", "2018-01-02")

    assert result.exit_code == 1
    line = result.output.splitlines()[0]
    assert line.startswith(f"2018-01-02  failed  stg_quotes_are_possible failed in {path}: {rule} (1 row): quote_date=2018-10-01 "), line
    assert shown in line
    assert (project.rows("2018-01-02"), summary(project, "2018-01-02")) == loaded


def test_each_plausibility_rule_is_its_own_warning_and_a_row_may_break_two(project):
    """One test checks the three plausibility rules: two equal rows (both copies found by the
    group-by joined back), and one row dated a year away that traded nothing, under both rules."""
    rows = [ROW, ROW, {**ROW, "date": "2017-01-02", "amount": "0"}, {**ROW, "share_price": "10.2500"}]
    project.file("2018-01-02").write_text(csv_text(HEADER.split(","), rows))

    result = project.runner("run", "2018-01-02")

    assert result.exit_code == 0, result.output
    assert len(project.rows("2018-01-02")) == 4
    warned = project.status("--start", "2018-01-02", "--end", "2018-01-02")["2018-01-02"]
    assert (warned["state"], warned["message"]) == (
        "materialized", "OK, 3 warnings: dated_near_the_file (1 row), no_duplicate_rows (2 rows), volume_is_not_zero (1 row)")
    assert {warning["test"] for warning in warned["warnings"]} == {"stg_quotes_are_plausible"}
    message = warned["warnings"][0]["message"]
    assert message.startswith(f"stg_quotes_are_plausible warned in {project.file('2018-01-02')}: "
                              "dated_near_the_file (1 row): quote_date=2017-01-02 "), message
    assert "; no_duplicate_rows (2 rows): quote_date=2018-01-02 " in message  # the rest: past the 400 characters


def test_rows_dated_months_away_load_with_a_warning_shown_everywhere(project):
    """The real-file shape: a file named for January holds quotes dated September, October and the
    year before."""
    rows = [{**ROW, "date": "2018/09/28"}, {**ROW, "date": "2018-10-01", "amount": "1.0000"}, {**ROW, "date": "2017-06-30"}, ROW]
    project.file("2018-01-02").write_text(csv_text(HEADER.split(","), rows))

    result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03")

    assert result.exit_code == 0, result.output
    assert len(project.rows("2018-01-02")) == 4
    statuses = project.status("--start", "2018-01-01", "--end", "2018-01-03")
    warned = statuses["2018-01-02"]
    assert warned["state"] == "materialized"
    assert [(warning["check"], warning["test"]) for warning in warned["warnings"]] == [("dated_near_the_file", "stg_quotes_are_plausible")]
    assert warned["warnings"][0]["rows"] == 3
    assert warned["message"] == "OK, 1 warning: dated_near_the_file (3 rows)"
    # Loaded in the same chunk, the other days have no warning of their own.
    assert statuses["2018-01-01"]["warnings"] == [] and statuses["2018-01-03"]["warnings"] == []

    table = project.runner("status", "--start", "2018-01-01", "--end", "2018-01-03")
    history = project.runner("history", "2018-01-02")
    as_json = project.runner("history", "2018-01-02", "--json")

    assert (table.exit_code, history.exit_code, as_json.exit_code) == (0, 0, 0)
    lines = table.output.splitlines()
    assert lines[0] == "█!█"
    assert next(line for line in lines if line.startswith("2018-01-02")).endswith(
        "  OK, 1 warning: dated_near_the_file (3 rows)")
    message = (f"stg_quotes_are_plausible warned in {project.file('2018-01-02')}: dated_near_the_file (3 rows): "
               "quote_date=2018-09-28 open_price=10 high_price=11 low_price=9.5 close_price=10.5 volume=500; "
               "quote_date=2018-10-01 open_price=10 high_price=11 low_price=9.5 close_price=10.5 volume=1 (and 1 more)")
    assert re.fullmatch(r"\S+ \S+  \S+  success with 1 warning  rows 4  \d+\.\d\ds", history.output.splitlines()[0])
    warned_lines = [re.fullmatch(r"    test {7}stg_quotes_are_plausible +warn  \d+\.\d\ds  (.*)", line)
                    for line in history.output.splitlines() if " warn " in line]
    assert [line[1] for line in warned_lines] == [message]
    warn = next(node for node in json.loads(as_json.output)[0]["nodes"] if node["status"] == "warn")
    assert (warn["failures"], warn["message"]) == (3, message)

    page = project.root / "status.html"
    assert project.runner("report", "--out", str(page)).exit_code == 0
    # The page (the console's templates) marks the day materialized with warnings: its own glyph.
    assert re.search(r'class="cell s-warnings"[^>]*data-date="2018-01-02"[^>]*>!<', page.read_text())


def test_no_message_carries_more_than_400_characters(project, loaded):
    """The README's promise, the note of how many were cut included: a message cut is exactly 400."""
    project.file("2018-01-02").write_text(HEADER + "\n" + "2018-01-02," + "9" * 10_000_000 + ",1,1,1,1\n")
    cut = re.compile(r".{300,}\.\.\. \(\d+ more characters\)")
    result = project.runner("run", "2018-01-02")
    assert result.exit_code == 1
    message = result.output.splitlines()[0].removeprefix("2018-01-02  failed  ")
    assert len(message) == 400 and cut.fullmatch(message), message
    status = project.status("--start", "2018-01-02", "--end", "2018-01-02")["2018-01-02"]
    assert status["state"] == "failed" and status["message"] == message
    history = project.runner("history", "2018-01-02", "--json")
    assert history.exit_code == 0
    messages = [node["message"] for run in json.loads(history.output) for node in run["nodes"] if node["message"]]
    assert max(len(text) for text in messages) == 400 and any(cut.fullmatch(text) for text in messages)


def break_model(project, name: str, old: str, new: str) -> None:
    """Change a model of the project's copy: how a check on a built model is made to fail."""
    path = project.root / "models" / "marts" / f"{name}.sql"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.mark.parametrize("chunked", [False, True])
def test_a_failed_check_on_a_built_model_rolls_the_partition_back(project, chunked):
    """raw_partition_data's own check runs inside its transaction: its failure leaves the old rows."""
    days = ("--start", "2018-01-01", "--end", "2018-01-03")
    assert project.runner("backfill", *days).exit_code == 0
    before = {day: (project.rows(day), summary(project, day)) for day in ("2018-01-01", "2018-01-02", "2018-01-03")}
    break_model(project, "raw_partition_data", "select * from final",
                "select * from final\nunion all\nselect * from final where partition_date = date '2018-01-02'")

    result = project.runner("backfill", *days, "--only", "all", *(() if chunked else ("--chunk-size", "1")))

    assert result.exit_code == 1
    lines = {line[:10]: line for line in result.stdout.splitlines()[:3]}
    assert lines["2018-01-02"] == ("2018-01-02  failed  raw_partition_data: Invalid Input Error: rows lost or doubled on the"
                                   " way to raw_partition_data in partition 2018-01-02 (20 rows in stg_daily_files__quotes,"
                                   " 40 here)")
    assert lines["2018-01-01"].startswith("2018-01-01  loaded  20 rows")
    assert {day: (project.rows(day), summary(project, day)) for day in before} == before
    status = project.status(*days)["2018-01-02"]
    assert (status["state"], status["rows"]) == ("failed", 20)


def test_a_doubled_summary_row_fails_inside_the_transaction(project, loaded):
    seed = project.root / "seeds" / "nyse_holidays.csv"
    seed.write_text(seed.read_text().rstrip("\n") + "\n2018-01-02,Founders' Day\n2018-01-02,Founders' Day again\n")

    result = project.runner("run", "2018-01-02")

    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        "2018-01-02  failed  daily_summary: Invalid Input Error: more than one daily_summary row in partition 2018-01-02 (2 rows)")
    assert (project.rows("2018-01-02"), summary(project, "2018-01-02")) == loaded


def test_dates_without_leading_zeros_parse_in_both_formats(project):
    rows = [{**ROW, "date": "2018/9/5"}, {**ROW, "date": "2018-1-2", "amount": "1.0000"}]
    project.file("2018-01-02").write_text(csv_text(HEADER.split(","), rows))
    assert project.runner("run", "2018-01-02").exit_code == 0
    assert project.query("select quote_date::varchar from raw_partition_data order by 1") == [("2018-01-02",), ("2018-09-05",)]


def test_a_summary_that_miscounts_fails_inside_the_transaction(project, loaded):
    break_model(project, "daily_summary", "count(*) as quote_count", "count(*) + 1 as quote_count")

    result = project.runner("run", "2018-01-02")

    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        "2018-01-02  failed  daily_summary: Invalid Input Error: quote_count differs from raw_partition_data in partition"
        " 2018-01-02 (20 rows in raw_partition_data, 21 here)")
    assert (project.rows("2018-01-02"), summary(project, "2018-01-02")) == loaded


# The DuckDB read is optimistic (macros/daily_files.sql, duckdb__parse_decimal and
# duckdb__parse_quote_date): a value the cheap check vouches for is cast at once, any other goes
# through the strict parse. These values pass the cheap shape check or fail it, and the strict parse
# must still give each its exact message...
EXPLAINED = {
    "a date shaped right that is no date": ("date", "2018-02-30", "unparseable date"),
    "a year with a sign, which the date cast alone would take": ("date", "-018-01-02", "unparseable date"),
    "a date with a time": ("date", "2018-01-02 10:00:00", "unparseable date"),
    "11 decimals": ("amount", "500.12345678901", "more than 10 decimals (it would be rounded)"),
    "a tiny number with an exponent, which the cast would round to 0": (
        "amount", "1.5e-12", "more than 10 decimals (it would be rounded)"),
    "a number too large for 28 digits": ("amount", "12345678901234567890123456789", "unparseable number"),
    "a number in words": ("share_price", "ten", "unparseable number"),
    "a digit separator, which DuckDB's cast alone would take": ("amount", "1_000", "unparseable number"),
}


@pytest.mark.parametrize("case", EXPLAINED)
def test_a_value_the_fast_read_refuses_fails_with_the_strict_message(project, loaded, case):
    column, value, what = EXPLAINED[case]
    path = project.file("2018-01-02")
    path.write_text(csv_text(HEADER.split(","), [ROW, {**ROW, column: value}]))

    result = project.runner("run", "2018-01-02")

    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        f"2018-01-02  failed  stg_daily_files__quotes: Invalid Input Error: {what} in {path} (column {column}): '{value}'")
    assert (project.rows("2018-01-02"), summary(project, "2018-01-02")) == loaded


def test_values_the_fast_read_cannot_vouch_for_load_as_the_strict_parse_reads_them(project):
    # ...and the values it leaves to the strict parse load as before: padded, trailing zeros past
    # the tenth decimal, slashes, a leading '+', exponents that leave at most 10 decimals.
    rows = [{**ROW, "date": " 2018/01/02 ", "share_price": " 10.5000 ", "amount": "500.00000000000000",
             "spend": "+10.0000", "shift": "11.000000000000", "spread": "9.5"},
            {**ROW, "share_price": "1.05E1", "amount": "1.23456789012e5", "spend": "1e1", "shift": "0.011e3",
             "spread": "95e-1"}]
    project.file("2018-01-02").write_text(csv_text(HEADER.split(","), rows))
    assert project.runner("run", "2018-01-02").exit_code == 0
    assert project.query(
        "select quote_date::varchar, open_price, high_price, low_price, close_price, volume from raw_partition_data"
        " order by volume"
    ) == [("2018-01-02", Decimal("10"), Decimal("11"), Decimal("9.5"), Decimal("10.5"), Decimal("500")),
          ("2018-01-02", Decimal("10"), Decimal("11"), Decimal("9.5"), Decimal("10.5"), Decimal("123456.789012"))]
