"""What a failed or warning data test found, per partition: how many rows, and the first ones.

dbt says only "Got 3 results, configured to fail if != 0". The runner runs the test's own
compiled SQL again, right after the invocation (its relations are still as the test saw them),
and turns the first rows it returns into a message that names the file and shows the values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from runner.artifacts import shortened
from runner.partitions import as_date

# Rows shown per partition, and characters per value: enough to find the row, never a whole line.
SHOWN_ROWS = 2
MAX_VALUE = 40
# Columns of the tests' rows that the message says otherwise (the file) or that are ours.
UNSHOWN = {"partition_date", "source_file", "runner_row", "runner_rows"}


@dataclass(frozen=True)
class Found:
    """A test's rows for one partition."""

    rows: int
    shown: list[dict]
    source_file: str | None


def offending_rows_query(compiled_code: str) -> str:
    """The test's rows, the first few of each partition, with each partition's count."""
    return (
        "select * from (select found.*, row_number() over (partition by partition_date order by partition_date) as runner_row,"
        " count(*) over (partition by partition_date) as runner_rows"
        f" from ({compiled_code.strip().rstrip(';')}) as found) as numbered where runner_row <= {SHOWN_ROWS}"
    )


def found_by_partition(columns: list[str], rows: list[tuple]) -> dict[date, Found]:
    """The query's result, by partition."""
    found: dict[date, Found] = {}
    for row in rows:
        record = dict(zip(columns, row))
        day = as_date(record["partition_date"])
        entry = found.setdefault(day, Found(int(record["runner_rows"]), [], record.get("source_file")))
        entry.shown.append({name: value for name, value in record.items() if name not in UNSHOWN})
    return found


def describe(check: str, outcome: str, found: Found, expected_file: str) -> str:
    """For example: `stg_quotes_volume_is_not_negative failed for 1 row of /d/2018-01-22.csv:
    quote_date=2018-10-01 volume=-5000.0000000000`."""
    rows = f"{found.rows} row{'' if found.rows == 1 else 's'}"
    shown = "; ".join(" ".join(f"{name}={_value(value)}" for name, value in row.items()) for row in found.shown)
    more = f" (and {found.rows - len(found.shown)} more)" if found.rows > len(found.shown) else ""
    return shortened(f"{check} {outcome} for {rows} of {found.source_file or expected_file}: {shown}{more}")


def _value(value) -> str:
    # A decimal as written, without the column's trailing zeros: 5000, not 5000.0000000000.
    text = "null" if value is None else format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "..."
