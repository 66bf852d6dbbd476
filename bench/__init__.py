"""Benchmarks of the daily loads: the runner against dbt and plain DuckDB baselines (see bench/README.md)."""
