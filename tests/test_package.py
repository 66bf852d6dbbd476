"""The runner is a package: a wheel installed in a fresh venv, run from outside any checkout, works
on the dbt project it is given, with that project's own models (nothing read from this repository)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from conftest import REPO
from test_second_project import DAYS, SALES, Sales, in_the_file

RENAMED = ("daily_summary", "daily_totals")  # a mart this repository does not have


def run(*command, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=600)


def installed_runner(tmp_path: Path) -> Path:
    """A wheel of the runner built from its sources alone, installed into a new venv whose only other
    packages are the dependencies (this venv's site-packages as a plain path: its editable install of
    the checkout is not loaded there)."""
    sources = tmp_path / "sources"
    shutil.copytree(REPO / "runner", sources / "runner", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", sources)
    wheels = tmp_path / "wheels"
    built = run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
                "-w", wheels, sources, cwd=tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr
    venv = tmp_path / "venv"
    assert run(sys.executable, "-m", "venv", venv, cwd=tmp_path).returncode == 0
    (site,) = (venv / "lib").glob("python3.*/site-packages")
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (wheel,) = wheels.glob("*.whl")
    installed = run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return venv / "bin" / "runner"


def renamed_copy(project_root: Path, target: Path) -> Path:
    """The test project with its mart daily_summary called daily_totals in every file that names it."""
    shutil.copytree(project_root, target, ignore=shutil.ignore_patterns("target", "*.duckdb"))
    old, new = RENAMED
    for path in [*target.rglob("*.sql"), *target.rglob("*.yml"), *target.rglob("*.md")]:
        if old in path.read_text():
            path.write_text(path.read_text().replace(old, new))
    (target / "models" / "marts" / f"{old}.sql").rename(target / "models" / "marts" / f"{new}.sql")
    return target


def test_a_wheel_in_a_fresh_venv_runs_another_project_with_its_own_models(project, tmp_path):
    runner = installed_runner(tmp_path)
    elsewhere = tmp_path / "elsewhere"  # no checkout, no dbt_project.yml: the runner is found as a package
    elsewhere.mkdir()
    where = run(runner.with_name("python"), "-c", "import runner; print(runner.__file__)", cwd=elsewhere)
    assert where.stdout.startswith(str(tmp_path / "venv")), where.stdout + where.stderr

    other = renamed_copy(project.root, tmp_path / "other")
    loaded = run(runner, "--project-dir", other, "backfill", "--start", "2018-01-01", "--end", "2018-01-02", cwd=elsewhere)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    shown = run(runner, "--project-dir", other, "status", "--start", "2018-01-01", "--end", "2018-01-02",
                "--json", "--model", RENAMED[1], cwd=elsewhere)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert [(entry["state"], entry["rows"]) for entry in json.loads(shown.stdout)] == [("materialized", 1)] * 2

    refused = run(runner, "--project-dir", other, "status", "--model", RENAMED[0], cwd=elsewhere)
    assert refused.returncode == 2
    assert "Invalid value for '--model': 'daily_summary' is not one of 'stg_daily_files__quotes', " \
           "'raw_partition_data', 'daily_totals'." in refused.stderr, refused.stderr

    # The second project (Parquet in dated folders, its own names and partitions), by the same wheel.
    sales = Sales(tmp_path / "sales")
    shutil.copytree(SALES, sales.root)
    for day in DAYS[:3]:
        sales.write(day, sales=4)
    loaded = run(runner, "--project-dir", sales.root, "backfill", "--start", DAYS[0], "--end", DAYS[2], cwd=elsewhere)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    shown = run(runner, "--project-dir", sales.root, "status", "--json", cwd=elsewhere)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    states = {entry["partition_date"]: entry["state"] for entry in json.loads(shown.stdout)}
    assert [states[day.isoformat()] for day in DAYS[:3]] == ["materialized"] * 3
    assert sales.held(DAYS[1]) == in_the_file(sales.file(DAYS[1]))
