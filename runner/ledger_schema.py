"""The ledger's tables as its DuckDB file holds them, and the columns added since (a ledger written
before a column or a table existed gets it on its next write): the ledger's queries are in runner/ledger.py."""

from __future__ import annotations

import re

SCHEMA = """
create table if not exists partition_runs (
    partition_date date not null,
    invocation_id varchar not null,
    unique_id varchar not null,
    resource_type varchar not null,
    status varchar not null,
    message varchar,
    failures integer,
    execution_time double,
    started_at timestamp,
    completed_at timestamp,
    rows_loaded bigint,
    source_file varchar,
    source_fingerprint varchar,
    code_fingerprint varchar,
    recorded_at timestamp not null,
    seeds_fingerprint varchar,
    failures_by_rule varchar,
    content_fingerprint varchar,
    runner_pid integer,
    runner_host varchar,
    primary key (partition_date, invocation_id, unique_id)
);
create table if not exists warehouse_marks (
    warehouse varchar primary key,
    size bigint,
    modified_ns bigint,
    inode bigint,
    marked_at timestamp not null
);
create table if not exists seed_loads (
    warehouse varchar not null,
    seed varchar not null,
    fingerprint varchar not null,
    loaded_at timestamp not null,
    primary key (warehouse, seed)
);
"""
# Ledgers written before a column existed get it (null for their rows).
ADDED_COLUMNS = {"seeds_fingerprint": "varchar", "failures_by_rule": "varchar", "content_fingerprint": "varchar",
                 "runner_pid": "integer", "runner_host": "varchar"}

COLUMN_TYPES = dict(re.findall(r"^    (\w+) (\w+)", SCHEMA, re.MULTILINE))

# Every backfill, whoever started it (runner/backfill_records.py): its partitions' runs are those of
# its invocations in partition_runs. A ledger written before this table gets it on its next write.
SCHEMA += """
create table if not exists backfills (
    backfill_id varchar primary key,
    started_at timestamp not null,
    finished_at timestamp,
    started_by varchar not null,
    user_host varchar,
    runner_pid integer,
    runner_host varchar,
    range_start date,
    range_end date,
    selection varchar,
    requested integer not null,
    requested_dates date[],
    chunks integer,
    status varchar not null,
    loaded integer,
    failed integer,
    invocation_ids varchar[],
    message varchar
);
"""
