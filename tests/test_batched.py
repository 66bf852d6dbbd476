"""Batched backfills: one dbt invocation per chunk of partitions, exact per-partition records."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date, timedelta

import duckdb
import yaml
from conftest import Project

from bench.sample_data import write_days
from runner.loading import chunked

HEADER = "date,share_price,amount,spend,shift,spread\n"


def table(project) -> list[tuple]:
    return project.query("select * exclude (source_file) from raw_partition_data order by all")


def states(project) -> dict[str, tuple]:
    return {day: (s["state"], s["rows"]) for day, s in project.status("--start", "2018-01-01", "--end", "2018-01-05").items()}


def test_batched_equals_per_partition_mode(project, tmp_path):
    twin = Project(tmp_path / "twin")
    shutil.copytree(project.root, twin.root)  # the same files, its own warehouse and ledger

    batched = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-05", "--chunk-size", "5")
    single = twin.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-05",
                         "--chunk-size", "1")

    assert batched.exit_code == 0 and single.exit_code == 0
    assert table(project) == table(twin) and len(table(project)) == 100
    assert project.query("select * from daily_summary order by all") == twin.query("select * from daily_summary order by all")
    assert states(project) == states(twin) == {f"2018-01-0{d}": ("materialized", 20) for d in range(1, 6)}
    with duckdb.connect(str(project.ledger), read_only=True) as ledger:
        invocations, per_partition = ledger.execute(
            "select count(distinct invocation_id), count(distinct (partition_date, unique_id)) from partition_runs"
        ).fetchone()
        nodes = ledger.execute("select count(distinct unique_id) from partition_runs").fetchone()[0]
    assert invocations == 1
    assert per_partition == 5 * nodes  # every node recorded for every partition of the chunk


def test_large_days_summed_alone_or_in_a_chunk_give_the_same_digits(project, tmp_path):
    """More rows than one DuckDB row group (122,880): a plain sum of doubles then follows the
    engine's threads, and a day's volume_weighted_close differed in its last digits between the
    two modes (the benchmark's check, 2026-12-02)."""
    for path in project.source_dir.glob("*.csv"):
        path.unlink()
    write_days(project.source_dir, date(2018, 1, 1), days=3, rows=60_000)
    twin = Project(tmp_path / "twin")
    shutil.copytree(project.root, twin.root)

    batched = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03", "--chunk-size", "3")
    single = twin.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03", "--chunk-size", "1")

    assert (batched.exit_code, single.exit_code) == (0, 0)
    summary = "select partition_date, quote_count, volume_weighted_close from daily_summary order by all"
    assert project.query(summary) == twin.query(summary)
    assert [row[1] for row in project.query(summary)] == [60_000, 60_000, 60_000]


def test_chunks_are_cut_at_the_most_days_and_at_the_most_bytes():
    days = [date(2018, 1, 1) + timedelta(days=n) for n in range(7)]
    sizes = dict(zip(days, [100, 100, 100, 100, 300, 50, 50], strict=True))

    assert chunked(sizes, max_days=3, max_bytes=None) == [days[0:3], days[3:6], days[6:7]]
    # 250 bytes: two 100-byte days, then the 300-byte day alone, then the two small ones together.
    assert chunked(sizes, max_days=3, max_bytes=250) == [days[0:2], days[2:4], days[4:5], days[5:7]]
    assert chunked({}, max_days=3, max_bytes=250) == []


def test_large_days_make_short_chunks(project):
    sizes = [project.file(f"2018-01-0{d}").stat().st_size for d in range(1, 6)]
    assert 3 * min(sizes) > 2.5 * max(sizes)  # so two days fit in the budget below, three never do
    budget_mb = 2.5 * max(sizes) / 2**20

    result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-05", "--chunk-mb", str(budget_mb), "--json")

    assert result.exit_code == 0
    partitions = json.loads(result.output)["partitions"]
    chunks = [[p["partition_date"][-2:] for p in partitions if p["invocation_id"] == invocation]
              for invocation in dict.fromkeys(p["invocation_id"] for p in partitions)]
    assert chunks == [["01", "02"], ["03", "04"], ["05"]]
    assert states(project) == {f"2018-01-0{d}": ("materialized", 20) for d in range(1, 6)}


def unreadable(path) -> None:
    """The day's file replaced by a symlink loop: there, but it cannot be read; its load fails alone."""
    path.unlink()
    os.symlink(path, path)


def test_a_dry_run_shows_the_invocations_the_backfill_then_makes(project):
    assert project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-05").exit_code == 0
    unreadable(project.file("2018-01-03"))
    command = ("backfill", "--start", "2018-01-01", "--end", "2018-01-05", "--chunk-size", "2", "--only", "all")

    plain = project.runner(*command, "--dry-run")
    planned = project.runner(*command, "--dry-run", "--json")
    done = project.runner(*command, "--json")

    assert (plain.exit_code, planned.exit_code, done.exit_code) == (0, 0, 1)  # the day whose file cannot be read fails
    planned, done = json.loads(planned.stdout), json.loads(done.stdout)["partitions"]
    assert plain.output.splitlines()[-1] == "5 of 5 partitions would run in 3 dbt invocations (dry run: nothing changed)"
    # The day whose file cannot be read is an invocation of its own, between the chunks around it.
    assert [item["invocation"] for item in planned] == [1, 1, 2, 3, 3]
    ran_in = {p["partition_date"]: p["invocation_id"] for p in done}
    assert [len({ran_in[item["partition_date"]] for item in planned if item["invocation"] == n}) for n in (1, 2, 3)] == [1, 1, 1]
    assert len(set(ran_in.values())) == 3


def test_a_failing_partition_is_isolated_and_the_chunk_is_atomic(project):
    assert project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-05", "--chunk-size", "5").exit_code == 0
    before = {day: project.rows(day) for day in ("2018-01-02", "2018-01-03")}
    project.file("2018-01-02").write_text(HEADER + "2018-01-02,10.0000,500.0000,9.5000,10.5000,9.0000\n")
    project.file("2018-01-03").write_text(HEADER + "2018-01-03,ten,500.0000,9.5000,10.5000,9.0000\n")

    result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-05", "--only", "all", "--chunk-size", "5")

    assert result.exit_code == 1
    outcomes = {line[:10]: line[12:18] for line in result.output.splitlines()[:5]}
    assert outcomes == {"2018-01-01": "loaded", "2018-01-02": "loaded", "2018-01-03": "failed", "2018-01-04": "loaded",
                        "2018-01-05": "loaded"}
    assert len(project.rows("2018-01-02")) == 1 and project.rows("2018-01-02") != before["2018-01-02"]
    assert project.rows("2018-01-03") == before["2018-01-03"]  # the failed partition kept its rows
    assert states(project)["2018-01-03"][0] == "failed"
    assert {day: state for day, (state, _) in states(project).items() if day != "2018-01-03"} == {
        "2018-01-01": "materialized", "2018-01-02": "materialized", "2018-01-04": "materialized", "2018-01-05": "materialized"}


def test_an_unreadable_file_does_not_fail_its_chunk_and_a_gone_one_is_not_run(project):
    assert project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-05").exit_code == 0
    unreadable(project.file("2018-01-03"))
    project.file("2018-01-04").unlink()  # loaded, then its file went: it keeps its rows, nothing to load
    result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-05", "--only", "all", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert {p["partition_date"]: p["outcome"] for p in report["partitions"]} == {
        "2018-01-01": "loaded", "2018-01-02": "loaded", "2018-01-03": "failed", "2018-01-05": "loaded"}
    assert report["partitions"][2]["message"] == f"cannot read {project.file('2018-01-03')}: Too many levels of symbolic links"
    assert len({p["invocation_id"] for p in report["partitions"]}) == 2
    assert len(project.rows("2018-01-04")) == 20


def rows_held_in_temporary_tables(project, *command: str) -> list[int]:
    """Run a runner command with a probe: a post-hook of raw_partition_data, which runs inside the
    model's transaction right after its delete+insert, records how many rows the connection's
    temporary tables (DuckDB holds them in memory) hold then. One number per build of the model."""
    with duckdb.connect(str(project.warehouse)) as warehouse:
        warehouse.execute("create or replace table temporary_rows_probe (held bigint)")
    assert project.runner(*command).exit_code == 0
    return [held for (held,) in project.query("select held from temporary_rows_probe")]


# The probe: a count of every row in the connection's temporary tables, whatever their names.
PROBE_MACRO = """
{% macro rows_held_in_temporary_tables() %}
  {%- set counts = ["0"] -%}
  {%- if execute -%}
    {%- for table in run_query("select database_name, schema_name, table_name from duckdb_tables() where temporary") -%}
      {%- do counts.append("(select count(*) from " ~ adapter.quote(table[0]) ~ "." ~ adapter.quote(table[1])
                           ~ "." ~ adapter.quote(table[2]) ~ ")") -%}
    {%- endfor -%}
  {%- endif -%}
  insert into temporary_rows_probe select {{ counts | join(" + ") }}
{% endmacro %}
"""


def probe_the_temporary_tables(project) -> None:
    """The probe's post-hook, added to raw_partition_data in this copy of the project."""
    (project.root / "macros" / "temporary_rows_probe.sql").write_text(PROBE_MACRO)
    path = project.root / "dbt_project.yml"
    config = yaml.safe_load(path.read_text())
    config["models"]["daily_loads"]["marts"]["raw_partition_data"] = {"+post-hook": "{{ rows_held_in_temporary_tables() }}"}
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def test_a_reloaded_chunk_copies_no_rows_into_a_temporary_table_and_leaves_nothing_behind(project):
    assert project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-05").exit_code == 0
    before = table(project)
    probe_the_temporary_tables(project)

    chunk = rows_held_in_temporary_tables(project, "backfill", "--start", "2018-01-01", "--end", "2018-01-05", "--only", "all")
    one_day = rows_held_in_temporary_tables(project, "run", "2018-01-03")

    # A chunk's rows come from a view, not from a copy held in memory (dbt-duckdb's temporary
    # table); one day's still do, which shows the probe sees such a copy.
    assert chunk == [0]
    assert one_day == [20]
    assert table(project) == before
    assert sorted(name for (name,) in project.query("select table_name from duckdb_tables()")) == [
        "daily_summary", "nyse_holidays", "raw_partition_data", "stg_daily_files__quotes", "temporary_rows_probe"]
    assert project.query("select view_name from duckdb_views() where not internal") == []
