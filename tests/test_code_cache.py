"""Status without dbt: the models' code fingerprints remembered until the project changes."""

from __future__ import annotations

import json
import subprocess
import sys

from runner import code_cache
from runner.project import load_project

STATUS_WITHOUT_DBT = """
import json, sys
from runner.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="runner")
finally:
    print(json.dumps(sorted({name.split(".")[0] for name in sys.modules if name.startswith("dbt")})), file=sys.stderr)
"""


def test_status_after_a_backfill_does_not_start_dbt(project):
    assert project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-02").exit_code == 0

    status = subprocess.run(
        [sys.executable, "-c", STATUS_WITHOUT_DBT, "--project-dir", str(project.root), "status", "--json",
         "--start", "2018-01-01", "--end", "2018-01-03"],
        cwd=project.root, capture_output=True, text=True,
    )

    assert status.returncode == 0, status.stderr
    assert [entry["state"] for entry in json.loads(status.stdout)] == ["materialized", "materialized", "missing"]
    assert json.loads(status.stderr.splitlines()[-1]) == []  # no dbt module was imported


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
    code_cache.remember(loaded, "key-1", {"raw_partition_data": "abc"})

    assert code_cache.cached(loaded, "key-1") == {"raw_partition_data": "abc"}
    assert code_cache.cached(loaded, "key-2") is None
    next(loaded.artifacts_dir.glob("code_fingerprints.*.json")).write_text("{not json")
    assert code_cache.cached(loaded, "key-1") is None
