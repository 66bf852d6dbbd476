"""The partitioned models are named once, in selectors.yml: what the runner reads from it and from
the project's files (plain YAML, never dbt) is what dbt itself selects and configures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from runner.model_files import PARTITIONED_SELECTOR
from runner.project import PARTITIONED_MODELS_SELECTOR, load_project

DBT = str(Path(sys.executable).with_name("dbt"))


def listed(project, *selection: str) -> list[dict]:
    """`dbt ls` of a selection in the test project: each node's id, type, config and parents."""
    done = subprocess.run([DBT, "ls", "--profiles-dir", ".", "--quiet", *selection, "--output", "json",
                           "--output-keys", "unique_id resource_type name config depends_on"],
                          cwd=project.root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def test_the_selectors_select_what_the_runner_built_before_them(project):
    """`--selector partitioned` is every node of `stg_daily_files__quotes+` (models, tests, unit tests,
    the exposure), and `--selector partitioned_models` those of its compile, models and their tests."""
    def ids(*selection):
        return sorted(node["unique_id"] for node in listed(project, *selection))

    assert ids("--selector", PARTITIONED_SELECTOR) == ids("--select", "stg_daily_files__quotes+")
    assert ids("--selector", PARTITIONED_MODELS_SELECTOR) == ids("--select", "stg_daily_files__quotes+,resource_type:model")


def test_the_models_the_runner_reads_are_dbts_in_lineage_order_with_their_materializations(project):
    """The project's partitioned models are the selector's, each after the models it reads; the
    incremental ones those that dbt materializes incrementally, in the same order."""
    found = load_project(str(project.root)).models
    models = {node["name"]: node for node in listed(project, "--selector", PARTITIONED_SELECTOR, "--resource-type", "model")}
    assert sorted(found.partitioned) == sorted(models)
    for position, name in enumerate(found.partitioned):
        parents = {parent.rsplit(".", 1)[1] for parent in models[name]["depends_on"]["nodes"]} & set(models)
        assert parents <= set(found.partitioned[:position]), name
    assert found.incremental == tuple(name for name in found.partitioned if models[name]["config"]["materialized"] == "incremental")
    assert found.incremental == ("raw_partition_data", "daily_summary")
    assert found.primary == "raw_partition_data"  # the lesson's table: its rows are a partition's count
