"""The project's vars (dbt_project.yml) as dbt's var() returns them. A plain value is returned as
written, so it is read from the file; a templated one (`{{ env_var('DAILY_DIR') }}`,
`{{ target.name }}`) is rendered by dbt itself, once per version of the project, its environment
variables and target, and remembered with the code fingerprints (runner/code_cache.py)."""

from __future__ import annotations

import json
from pathlib import Path

from runner import code_cache
from runner.errors import UsageProblem
from runner.in_process import invoke_dbt
from runner.model_files import project_config

# The vars the runner reads: the partitions definition and the daily files' place and name.
RUNNER_VARS = ("partitions_start_date", "partitions_end_date", "partitions_end_offset", "partitions_timezone",
               "partitions_late_after", "source_dir", "daily_file_pattern")
JINJA_MARKS = ("{{", "{%")


def project_vars(project_dir: Path, target: str | None) -> dict:
    """The project's vars, the runner's own rendered by dbt when they are templated."""
    declared = project_config(project_dir).get("vars") or {}
    templated = [name for name in RUNNER_VARS if isinstance(declared.get(name), str)
                 and any(mark in declared[name] for mark in JINJA_MARKS)]
    if not templated:
        return declared
    folder, key = code_cache.runner_folder(project_dir), code_cache.vars_key(project_dir, target)
    rendered = code_cache.cached(folder, key, kind="vars")
    if rendered is None:
        rendered = rendered_by_dbt(project_dir, target, templated)
        code_cache.remember(folder, key, rendered, kind="vars")
    return {**declared, **rendered}


def rendered_by_dbt(project_dir: Path, target: str | None, names: list[str]) -> dict:
    """The vars as dbt's var() renders them in this project and target: `dbt compile --inline` of
    their JSON, in a folder of its own (its partial parse is kept for the next change)."""
    folder = code_cache.runner_folder(project_dir) / "vars"
    inline = "{{ tojson({" + ", ".join(f"{name!r}: var({name!r}, none)" for name in names) + "}) }}"
    result, error = invoke_dbt(["compile", "--inline", inline, "--no-write-json", "--no-populate-cache",
                                "--vars", json.dumps({"runner_invocation": True})],  # the hand-run hook stays out of it
                               project_dir, target, folder, folder / "engine.log")
    try:
        if error is not None:
            raise ValueError(error)
        values = json.loads(result.result.results[0].node.compiled_code)
    except (ValueError, TypeError, AttributeError, IndexError) as error:
        raise UsageProblem(f"dbt_project.yml vars: {', '.join(names)}: dbt could not render it: {error}") from None
    return {name: value for name, value in values.items() if value is not None}
