"""Baseline: the plain DuckDB loop, one partition at a time, each in one transaction:
delete the partition's rows, then insert its file (read as COPY would, typed like the product).
Writes the seconds each partition took as JSON, to show how the cost grows with the table.

    python -m bench.duckdb_loop WAREHOUSE SOURCE_DIR START END TIMINGS_JSON
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

from bench.sql import COLUMNS, TABLE, typed_select


def main() -> None:
    warehouse, source_dir = sys.argv[1], Path(sys.argv[2]).resolve()
    start, end, timings_path = date.fromisoformat(sys.argv[3]), date.fromisoformat(sys.argv[4]), sys.argv[5]
    seconds = []
    with duckdb.connect(warehouse) as connection:
        connection.execute(f"create table if not exists {TABLE} ({COLUMNS})")
        day = start
        while day <= end:
            began = time.perf_counter()
            connection.execute("begin")
            connection.execute(f"delete from {TABLE} where partition_date = ?", [day])
            connection.execute(f"insert into {TABLE} {typed_select([str(source_dir / f'{day.isoformat()}.csv')])}")
            connection.execute("commit")
            seconds.append(time.perf_counter() - began)
            day += timedelta(days=1)
    Path(timings_path).write_text(json.dumps(seconds))


if __name__ == "__main__":
    main()
