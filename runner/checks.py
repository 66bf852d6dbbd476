"""What a failed or warning data test found, per partition: how many rows, and the first ones.

dbt says only "Got 3 results, configured to fail if != 0". The runner runs the test's own
compiled SQL again, right after the invocation (its relations are still as the test saw them),
and turns the first rows it returns into a message that names the file and shows the values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from runner.artifacts import shortened
from runner.partitions import as_date

# Rows shown per partition (per rule, for a test of several rules), and characters per value:
# enough to find the row, never a whole line.
SHOWN_ROWS = 2
MAX_VALUE = 40
# The column in which a test of several rules (data-tests/generic/rules_hold.sql) names the rule a
# row breaks: kept with the shown rows to group them, and said in the message before them.
RULE = "broken_rule"
# Columns of the tests' rows that the message says otherwise (the file) or that are ours.
UNSHOWN = {"partition_date", "source_file", "runner_row", "runner_rows"}


@dataclass(frozen=True)
class Found:
    """A test's rows for one partition; for a test of several rules, how many broke each."""

    rows: int
    shown: list[dict]
    source_file: str | None
    by_rule: dict[str, int] = field(default_factory=dict)


def offending_rows_query(compiled_code: str) -> str:
    """The test's rows, the first few of each partition (and rule), with each one's count."""
    code = compiled_code.strip().rstrip(";")
    key = f"partition_date, {RULE}" if f"as {RULE}" in code else "partition_date"
    return (
        f"select * from (select found.*, row_number() over (partition by {key} order by {key}) as runner_row,"
        f" count(*) over (partition by {key}) as runner_rows"
        f" from ({code}) as found) as numbered where runner_row <= {SHOWN_ROWS}"
    )


def found_by_partition(columns: list[str], rows: list[tuple]) -> dict[date, Found]:
    """The query's result, by partition."""
    counts: dict[date, dict[str | None, int]] = {}  # by partition, rows per rule (None: a test of one)
    shown: dict[date, list[dict]] = {}
    files: dict[date, str | None] = {}
    for row in rows:
        record = dict(zip(columns, row))
        day = as_date(record["partition_date"])
        counts.setdefault(day, {})[record.get(RULE)] = int(record["runner_rows"])
        shown.setdefault(day, []).append({name: value for name, value in record.items() if name not in UNSHOWN})
        files.setdefault(day, record.get("source_file"))
    return {day: Found(sum(by_rule.values()), shown[day], files[day], dict(sorted((rule, n) for rule, n in by_rule.items() if rule)))
            for day, by_rule in counts.items()}


def describe(check: str, outcome: str, found: Found, expected_file: str) -> str:
    """For example: `stg_quotes_volume_is_not_negative failed for 1 row of /d/2018-01-22.csv:
    quote_date=2018-10-01 volume=-5000`, or for a test of several rules: `stg_quotes_are_possible
    failed in /d/2018-01-22.csv: volume_is_not_negative (1 row): quote_date=2018-10-01 volume=-5000`."""
    file = found.source_file or expected_file
    if not found.by_rule:
        return shortened(f"{check} {outcome} for {_rows(found.rows)} of {file}: {_shown(found.shown, found.rows)}")
    # A row may break several rules: the rows are counted by rule, never added up.
    return shortened(f"{check} {outcome} in {file}: " + "; ".join(
        f"{rule} ({_rows(count)}): {_shown([row for row in found.shown if row.get(RULE) == rule], count)}"
        for rule, count in sorted(found.by_rule.items())))


def _rows(count: int) -> str:
    return f"{count} row{'' if count == 1 else 's'}"


def _shown(rows: list[dict], count: int) -> str:
    shown = "; ".join(" ".join(f"{name}={_value(value)}" for name, value in row.items() if name != RULE) for row in rows)
    return shown + (f" (and {count - len(rows)} more)" if count > len(rows) else "")


def _value(value) -> str:
    # A decimal as written, without the column's trailing zeros: 5000, not 5000.0000000000.
    text = "null" if value is None else format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "..."
