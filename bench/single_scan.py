"""Baseline (the floor): one DuckDB query reading every daily file, typed, into raw_partition_data.

    python -m bench.single_scan WAREHOUSE SOURCE_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from bench.sql import TABLE, typed_select


def main() -> None:
    warehouse, source_dir = sys.argv[1], Path(sys.argv[2]).resolve()
    with duckdb.connect(warehouse) as connection:
        connection.execute(f"create table {TABLE} as {typed_select(str(source_dir / '*.csv'))}")


if __name__ == "__main__":
    main()
