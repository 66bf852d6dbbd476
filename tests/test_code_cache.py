"""Status without dbt: the models' code fingerprints remembered until the project changes."""

from __future__ import annotations

from runner import code_cache
from runner.project import load_project


def test_status_after_a_backfill_does_not_start_dbt(project):
    assert project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-02").exit_code == 0

    statuses, imported = project.status_in_a_new_process("--start", "2018-01-01", "--end", "2018-01-03")

    assert [entry["state"] for entry in statuses.values()] == ["materialized", "materialized", "missing"]
    assert imported == []  # no dbt package: the code fingerprints were remembered by the backfill


def test_the_key_changes_with_the_code_and_what_it_reads_not_with_the_data(project, monkeypatch):
    loaded = load_project(str(project.root))
    monkeypatch.setenv("SPARK_DIR", str(project.root / "spark"))  # read by profiles.yml
    key = code_cache.project_key(loaded)

    project.file("2018-01-01").write_text(project.file("2018-01-01").read_text() + "\n")
    assert code_cache.project_key(loaded) == key  # data is not code

    monkeypatch.setenv("SPARK_DIR", str(project.root / "elsewhere"))
    assert code_cache.project_key(loaded) != key
    monkeypatch.setenv("SPARK_DIR", str(project.root / "spark"))
    assert code_cache.project_key(loaded) == key

    macro = project.root / "macros" / "partitions.sql"
    macro.write_text(macro.read_text() + "\n{# a comment #}\n")
    assert code_cache.project_key(loaded) != key


def test_a_remembered_fingerprint_is_used_only_for_its_key(project):
    loaded = load_project(str(project.root))
    code_cache.remember(loaded.artifacts_dir, "key-1", {"raw_partition_data": "abc"})

    assert code_cache.cached(loaded.artifacts_dir, "key-1") == {"raw_partition_data": "abc"}
    assert code_cache.cached(loaded.artifacts_dir, "key-2") is None
    (loaded.artifacts_dir / "code_fingerprints.json").write_text("{not json")
    assert code_cache.cached(loaded.artifacts_dir, "key-1") is None


def test_switching_between_warehouses_and_back_compiles_nothing_again(project, monkeypatch, tmp_path):
    """Each input set keeps its fingerprints: status on a warehouse looked at before starts no dbt,
    whichever other warehouses were looked at since."""
    assert project.runner("run", "2018-01-01").exit_code == 0
    first = project.status_in_a_new_process("--start", "2018-01-01", "--end", "2018-01-01")
    assert first[0]["2018-01-01"]["state"] == "materialized" and first[1] == []  # warm after the run
    for other in ("scratch", "another"):
        monkeypatch.setenv("WAREHOUSE_PATH", str(tmp_path / other / "warehouse.duckdb"))
        assert project.runner("run", "2018-01-01").exit_code == 0  # each warehouse is new: dbt parses
    monkeypatch.delenv("WAREHOUSE_PATH")
    entries, imported = project.status_in_a_new_process("--start", "2018-01-01", "--end", "2018-01-01")
    assert entries["2018-01-01"]["state"] == "materialized"
    assert imported == []  # no dbt: the first warehouse's fingerprints were kept


def test_only_the_last_few_input_sets_are_kept(project):
    loaded = load_project(str(project.root))
    for number in range(code_cache.KEPT + 1):
        code_cache.remember(loaded.artifacts_dir, f"key-{number}", {"raw_partition_data": str(number)})
    assert code_cache.cached(loaded.artifacts_dir, "key-0") is None
    assert code_cache.cached(loaded.artifacts_dir, "key-1") == {"raw_partition_data": "1"}
    assert code_cache.cached(loaded.artifacts_dir, f"key-{code_cache.KEPT}") == {"raw_partition_data": str(code_cache.KEPT)}


def test_each_input_of_the_key_changes_it_and_nothing_else_does(project, monkeypatch, tmp_path):
    """One case per input a model's compiled SQL can depend on: a stale partition must never look
    materialized because an input was left out of the key."""
    from dataclasses import replace

    loaded = load_project(str(project.root))
    key = code_cache.project_key(loaded)
    assert code_cache.project_key(load_project(str(project.root))) == key  # an unchanged project

    changed = {
        "target": code_cache.project_key(replace(loaded, target="spark")),
        "warehouse": code_cache.project_key(replace(loaded, warehouse_path=tmp_path / "other.duckdb")),
        "source folder": code_cache.project_key(replace(loaded, source_dir=tmp_path)),
    }
    versions = code_cache._version
    monkeypatch.setattr(code_cache, "_version", lambda package: "0.0.1" if package == "dbt-duckdb" else versions(package))
    changed["dbt-duckdb's version"] = code_cache.project_key(loaded)
    monkeypatch.setattr(code_cache, "_version", versions)
    for name, path, edit in [
        ("a seed", "seeds/nyse_holidays.csv", "2018-12-05,A day of mourning\n"),
        ("dbt_project.yml", "dbt_project.yml", "# a comment\n"),
        ("profiles.yml", "profiles.yml", "# a comment\n"),
        ("a model", "models/marts/daily_summary.sql", "-- a comment\n"),
    ]:
        file = project.root / path
        original = file.read_text()
        file.write_text(original + edit)
        changed[name] = code_cache.project_key(loaded)
        file.write_text(original)
    assert code_cache.project_key(loaded) == key
    assert {name: value != key for name, value in changed.items()} == dict.fromkeys(changed, True)
