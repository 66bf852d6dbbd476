"""What a partition holds, as the engine computes it: its rows and a fingerprint of their content.

The fingerprint is an order-independent hash of every column of every row of one model's partition
(the sum of the rows' hashes: a changed value, a row swapped for another, an older copy restored
all change it), computed in SQL by the warehouse's own engine. It is recorded when a partition is
loaded and computed again to prove that the warehouse still holds what was loaded.

Each engine hashes in its own way, so a fingerprint names its hash: one recorded with another
engine, or another DuckDB release (DuckDB's hash may change between releases), is not compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# The hash of a row, summed over the partition's rows, per engine: DuckDB's `hash` of the row as a
# struct (all its columns), Spark's xxhash64 of all its columns. Sums are exact (HUGEINT, DECIMAL).
ROW_HASH_SUM = {
    "duckdb": "cast(sum(hash(held)) as varchar)",
    "spark": "cast(sum(cast(xxhash64(*) as decimal(38, 0))) as string)",
}


@dataclass(frozen=True)
class Content:
    """One model's partition as the warehouse holds it."""

    rows: int
    fingerprint: str | None  # "<hash>:<sum>"; None when the engine cannot say


def hash_name(engine: str, version: str) -> str:
    """The name of an engine's row hash: fingerprints are comparable only under the same name."""
    return f"{engine}-{version}" if engine == "duckdb" else engine


def content_query(engine: str, relations: dict[str, str], where: str) -> str:
    """One query: each model's rows and content sum per partition, for the partitions `where` selects
    (a condition on partition_date). Columns: model, partition_date, rows, sum."""
    sum_of_hashes = ROW_HASH_SUM.get(engine)
    if sum_of_hashes is None:
        sum_of_hashes = "cast(null as varchar)"
    return " union all ".join(
        f"select '{model}' as model, partition_date, count(*) as row_count, {sum_of_hashes} as content"
        f" from {relation} as held where {where} group by partition_date"
        for model, relation in relations.items()
    )


def dates_condition(dates: list[date]) -> str:
    return "partition_date in (" + ", ".join(f"date '{day.isoformat()}'" for day in dates) + ")"


def range_condition(start: date, end: date) -> str:
    return f"partition_date between date '{start.isoformat()}' and date '{end.isoformat()}'"


def contents_of(rows: list[tuple], hash_used: str) -> dict[tuple[str, date], Content]:
    """The query's rows as Content by (model, partition)."""
    from runner.partitions import as_date

    return {(model, as_date(day)): Content(int(count), f"{hash_used}:{total}" if total is not None else None)
            for model, day, count, total in rows}


def empty(hash_used: str) -> Content:
    """A partition with no rows: nothing to sum."""
    return Content(0, f"{hash_used}:0")


def differs(recorded: str | None, now: Content | None) -> bool:
    """Whether the content now is not the content recorded. Unknown on either side, or hashed
    another way, is no evidence of a difference."""
    if recorded is None or now is None or now.fingerprint is None:
        return False
    recorded_hash, _, _ = recorded.rpartition(":")
    now_hash, _, _ = now.fingerprint.rpartition(":")
    return recorded_hash == now_hash and recorded != now.fingerprint
