"""A thin runner over a partitioned dbt project: backfills, per-partition ledger, status."""
