"""Faults of the machine, not of the data: a daily file that cannot be read, a damaged ledger, a
ledger or clock set wrong, an output folder or an adapter that is not there. Each is one line that
names what and why, with its exit code; a file's fault fails its partition alone."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib

import pytest
import yaml
from conftest import REPO

from runner.cli import cli
from runner.profiles import ADAPTER_EXTRAS, adapter_install, adapter_installed

DAY = "2018-01-03"
OTHERS = ("2018-01-01", "2018-01-02", "2018-01-04", "2018-01-05")


def fingerprint(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line(result) -> str:
    """The whole output of a refused command: exactly one line, no traceback."""
    assert "Traceback" not in result.output
    assert result.output.count("\n") == 1, result.output
    return result.output.rstrip("\n")


def test_a_symlink_loop_fails_its_partition_alone_and_says_so(project):
    path = project.file(DAY)
    path.unlink()
    os.symlink(path, path)  # every stat or open of it: ELOOP
    cause = f"cannot read {path}: Too many levels of symbolic links"

    status = project.runner("status")
    assert status.exit_code == 0, status.output
    assert "  missing  " in status.stdout
    entry = project.status()[DAY]
    assert (entry["state"], entry["message"]) == ("missing", f"never loaded; {cause}")

    backfill = project.runner("backfill")
    assert backfill.exit_code == 1, backfill.output
    assert f"{DAY}  failed  {cause}" in backfill.stdout.splitlines()
    assert f"  failed {DAY}: {cause}" in backfill.stderr.splitlines()
    assert backfill.stdout.count("  loaded  20 rows") == len(OTHERS)
    entries = project.status()
    assert [entries[day]["state"] for day in OTHERS] == ["materialized"] * len(OTHERS)
    assert (entries[DAY]["state"], entries[DAY]["message"]) == ("failed", f"invocation: {cause}")

    run = project.runner("run", DAY)
    assert run.exit_code == 1
    assert run.stdout.splitlines()[0] == f"{DAY}  failed  {cause}"  # the cause, not "awaits its file"

    once = project.runner("watch", "--once")
    assert once.exit_code == 1
    assert once.stdout.splitlines()[0].startswith(f"{DAY}  failed  {cause}  (")
    assert "Traceback" not in backfill.output + run.output + once.output
    assert project.rows(DAY) == []


def without_root_powers(tmp_path) -> list[str]:
    """What to run the runner under so that a file's permission bits bind it: nothing for a user; for
    root (which reads any file), setpriv taking away the capabilities that let it."""
    if os.geteuid() != 0:
        return []
    prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    probe = tmp_path / "probe"
    probe.write_text("")
    probe.chmod(0)
    tried = subprocess.run([*prefix, sys.executable, "-c", f"open({str(probe)!r})"], capture_output=True, text=True) \
        if shutil.which("setpriv") else None
    if tried is None or "PermissionError" not in tried.stderr:
        pytest.skip("running as root, and setpriv cannot take away root's power to read any file here")
    return prefix


def test_a_file_without_read_permission_fails_its_partition_alone_and_says_so(project, tmp_path):
    assert project.runner("backfill").exit_code == 0
    loaded = project.rows(DAY)
    prefix = without_root_powers(tmp_path)
    path = project.file(DAY)
    path.chmod(0)
    cause = f"cannot read {path}: Permission denied"

    def runner(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, sys.executable, "-m", "runner", "--project-dir", str(project.root), *args],
                              cwd=project.root, capture_output=True, text=True)

    status = runner("status", "--start", OTHERS[0], "--end", OTHERS[-1], "--json")
    assert status.returncode == 0, status.stderr
    entries = {entry["partition_date"]: entry for entry in json.loads(status.stdout)}
    assert (entries[DAY]["state"], entries[DAY]["message"]) == ("stale", cause)
    assert [entries[day]["state"] for day in OTHERS] == ["materialized"] * len(OTHERS)

    run = runner("run", DAY)
    assert run.returncode == 1, run.stderr
    assert run.stdout.splitlines()[0] == f"{DAY}  failed  {cause}"
    assert "Traceback" not in run.stdout + run.stderr + status.stderr
    path.chmod(0o644)
    assert project.rows(DAY) == loaded


def test_a_truncated_ledger_is_one_line_and_the_warehouse_is_untouched(project):
    assert project.runner("backfill").exit_code == 0
    with open(project.ledger, "r+b") as ledger:  # cut short: a disk that filled, a copy that stopped half-way
        ledger.truncate(project.ledger.stat().st_size // 2)
    warehouse = fingerprint(project.warehouse)

    for command in (["status"], ["backfill"], ["watch", "--once"], ["run", DAY]):
        result = project.runner(*command)
        assert result.exit_code == 1, (command, result.output)
        line = one_line(result)
        assert line.startswith(f"Error: ledger {project.ledger} is damaged (IO Error: Could not read enough bytes"), line
        assert line.endswith("): move it aside (a new ledger starts empty, and a backfill loads every partition again); "
                             "the warehouse is not affected")
    assert fingerprint(project.warehouse) == warehouse


def test_a_ledger_path_at_the_warehouse_is_refused_before_anything_is_written(project, monkeypatch):
    assert project.runner("run", "2018-01-02").exit_code == 0
    warehouse = fingerprint(project.warehouse)
    monkeypatch.setenv("LEDGER_PATH", "data/warehouse.duckdb")  # relative: to the working directory, the project

    for command in (["status"], ["backfill"], ["run", DAY], ["history", "2018-01-02"]):
        result = project.runner(*command)
        assert result.exit_code == 2, (command, result.output)
        assert result.output.splitlines()[-1] == (
            f"Error: LEDGER_PATH {project.warehouse} is the warehouse file: give the ledger a file of its own")
    assert fingerprint(project.warehouse) == warehouse


def test_a_warehouse_file_named_main_is_refused_before_anything_is_written(project, monkeypatch):
    # DuckDB names the database after the file; `main` clashes with its schema when dbt reloads a table.
    monkeypatch.setenv("WAREHOUSE_PATH", "data/main.duckdb")
    for command in (["status"], ["run", DAY]):
        result = project.runner(*command)
        assert result.exit_code == 2, (command, result.output)
        assert result.output.splitlines()[-1] == (
            f"Error: warehouse {project.root / 'data' / 'main.duckdb'}: DuckDB names the database after the file, and "
            "'main' is one of its own names: give the file another name")
    assert not (project.root / "data" / "main.duckdb").exists()


# Every command, with arguments that would do its work (ui: an address it cannot bind, so that a
# command that did not refuse the clock fails, rather than serving for ever).
EVERY_COMMAND = {
    "run": ["run", "2018-01-02"], "backfill": ["backfill"], "watch": ["watch", "--once"], "status": ["status"],
    "history": ["history", "2018-01-02"], "record": ["record"], "docs": ["docs"], "report": ["report"],
    "ui": ["ui", "--host", "256.0.0.1"], "forget": ["forget", "2018-01-02"], "backfills": ["backfills"],
}


@pytest.mark.parametrize("end", ["partitions_end_date set", "an open end"])
def test_a_bad_runner_now_is_a_usage_error_for_every_command(project, monkeypatch, end):
    assert set(EVERY_COMMAND) == set(cli.commands)
    config = project.root / "dbt_project.yml"
    assert '  partitions_end_date: "2018-01-31"\n' in config.read_text()
    if end == "an open end":
        config.write_text(config.read_text().replace('  partitions_end_date: "2018-01-31"\n', ""))
    monkeypatch.setenv("RUNNER_NOW", "garbage")

    for name, args in EVERY_COMMAND.items():
        result = project.runner(*args)
        assert result.exit_code == 2, (name, result.output)
        assert result.output.splitlines()[-1] == "Error: RUNNER_NOW='garbage' is not an ISO timestamp such as 2018-01-31T06:00:00Z"
    assert not project.warehouse.exists() and not project.ledger.exists()


def test_a_report_into_a_folder_that_does_not_exist_is_a_usage_error(project, tmp_path):
    out = tmp_path / "nonexistent" / "sub" / "x.html"
    result = project.runner("report", "--out", str(out))
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == f"Error: Invalid value for '--out': {out}: there is no folder {out.parent}"
    assert not (tmp_path / "nonexistent").exists()
    assert project.runner("report", "--out", str(tmp_path / "x.html")).exit_code == 0  # an existing folder


def test_a_target_whose_adapter_is_not_installed_names_the_install(project):
    profiles_file = project.root / "profiles.yml"
    profiles = yaml.safe_load(profiles_file.read_text())
    profiles["daily_loads"]["outputs"]["elsewhere"] = {"type": "nosuchengine", "threads": 1}
    profiles_file.write_text(yaml.safe_dump(profiles))

    for command in (["status"], ["backfill"], ["run", "2018-01-02"]):
        result = project.runner("--target", "elsewhere", *command)
        assert result.exit_code == 1, result.output
        assert one_line(result) == ("Error: target elsewhere: dbt's nosuchengine adapter is not installed "
                                    "(no module dbt.adapters.nosuchengine): pip install dbt-nosuchengine")
    assert not project.warehouse.exists()


@pytest.mark.parametrize("target, extra", [("spark", "spark"), ("cluster", "cluster")])
def test_a_spark_target_without_its_extra_names_the_extra(project, target, extra):
    if adapter_installed("spark"):
        pytest.skip("dbt's spark adapter is installed here")
    result = project.runner("--target", target, "status")
    assert result.exit_code == 1
    assert one_line(result) == (f"Error: target {target}: dbt's spark adapter is not installed (no module "
                                f"dbt.adapters.spark): pip install -e '.[{extra}]'")


def test_each_spark_method_is_installed_by_an_extra_that_brings_dbt_spark():
    assert adapter_install("spark", "session") == "pip install -e '.[spark]'"
    assert adapter_install("spark", "thrift") == "pip install -e '.[cluster]'"
    assert adapter_install("spark", "odbc") == "pip install dbt-spark"
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert all(any(need.startswith("dbt-spark[") for need in extras[extra]) for extra in ADAPTER_EXTRAS.values())
    outputs = yaml.safe_load((REPO / "profiles.yml").read_text())["daily_loads"]["outputs"]
    assert {(output["type"], output.get("method")) for output in outputs.values()} - {("duckdb", None)} == set(ADAPTER_EXTRAS)
    assert adapter_installed("duckdb") and not adapter_installed("nosuchengine")
