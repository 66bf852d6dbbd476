"""The project's vars as dbt renders them: a templated source_dir or partition bound means what
dbt's var() makes of it (its environment variables, its target), remembered until it changes."""

from __future__ import annotations

import json
import shutil

from runner.project import load_project

TEMPLATED = {
    # The folder from an environment variable, the first day from the target: what dbt renders.
    'source_dir: "data/source"': "source_dir: \"{{ env_var('DAILY_DIR', 'data/source') }}\"",
    'partitions_start_date: "2018-01-01"':
        "partitions_start_date: \"{{ '2018-01-02' if target.name == 'duckdb' else '2018-01-01' }}\"",
}


def templated(project, replacements: dict[str, str]) -> None:
    config = project.root / "dbt_project.yml"
    text = config.read_text()
    for plain, template in replacements.items():
        assert plain in text
        text = text.replace(plain, template)
    config.write_text(text)


def test_templated_vars_mean_what_dbt_renders_and_a_second_look_starts_no_dbt(project, monkeypatch, tmp_path):
    elsewhere = tmp_path / "daily"
    shutil.copytree(project.source_dir, elsewhere)
    shutil.rmtree(project.source_dir)
    templated(project, TEMPLATED)
    monkeypatch.setenv("DAILY_DIR", str(elsewhere))

    loaded = load_project(str(project.root))
    assert loaded.source_dir == elsewhere.resolve()
    assert str(loaded.defined_partitions().start) == "2018-01-02"

    result = project.runner("backfill", "--end", "2018-01-03", "--json")
    assert result.exit_code == 0, result.output
    assert [day["partition_date"] for day in json.loads(result.stdout)["partitions"]] == ["2018-01-02", "2018-01-03"]
    assert len(project.rows("2018-01-02")) == 20  # read from the folder DAILY_DIR names

    statuses, imported = project.status_in_a_new_process("--end", "2018-01-03")
    assert [(day, entry["state"]) for day, entry in statuses.items()] == [
        ("2018-01-02", "materialized"), ("2018-01-03", "materialized")]
    assert imported == []  # rendered once, remembered

    # Another value of the variable is another folder: asked of dbt again, not the remembered one.
    monkeypatch.setenv("DAILY_DIR", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    statuses, imported = project.status_in_a_new_process("--end", "2018-01-03")
    assert {(entry["state"], *entry["stale_reasons"]) for entry in statuses.values()} == {("stale", "file_gone")}
    assert "dbt" in imported


def test_a_var_dbt_cannot_render_is_one_line_naming_it(project):
    templated(project, {'daily_file_pattern: "%Y-%m-%d.csv"': 'daily_file_pattern: "{{ no_such_macro() }}"'})

    result = project.runner("status")

    assert result.exit_code == 2
    last = result.output.splitlines()[-1]
    assert last.startswith("Error: dbt_project.yml vars: daily_file_pattern: dbt could not render it: ")
    assert "'no_such_macro' is undefined" in last
    assert "Traceback" not in result.output
