"""The project's profiles.yml, read without dbt (status never imports it): its targets, their
adapters, where a DuckDB target's warehouse file is, and what to install when an adapter is missing."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path

import jinja2  # dbt's own renderer: a few ms, only for a templated path
import yaml

from runner.model_files import project_config

# The extras of pyproject.toml that bring the adapter of a target: by its type and method.
ADAPTER_EXTRAS = {("spark", "session"): "spark", ("spark", "thrift"): "cluster"}


def adapter_installed(adapter_type: str) -> bool:
    """Whether dbt's adapter for the type (the package dbt.adapters.<type>) is importable. Looked
    for without importing dbt, which status never does; then through every finder (an editable install)."""
    if not adapter_type.isidentifier():
        return False
    places = [str(Path(entry or os.getcwd()) / "dbt" / "adapters") for entry in sys.path]
    if importlib.machinery.PathFinder.find_spec(adapter_type, places) is not None:
        return True
    try:
        return importlib.util.find_spec(f"dbt.adapters.{adapter_type}") is not None
    except (ImportError, ValueError):
        return False


def adapter_install(adapter_type: str, method: str | None) -> str:
    """The command that installs the adapter a target of this type and method needs."""
    extra = ADAPTER_EXTRAS.get((adapter_type, method))
    return f"pip install -e '.[{extra}]'" if extra else f"pip install dbt-{adapter_type}"


def missing_adapter(root: Path, target: str | None, adapter: str | None) -> str | None:
    """Why a target cannot run here, if its adapter is not installed: one line with the install that
    brings it (dbt itself would say the target's credentials are invalid)."""
    if adapter in (None, "None") or adapter_installed(adapter):
        return None
    method = profile_outputs(root).get(target, {}).get("method")
    return (f"target {target}: dbt's {adapter} adapter is not installed (no module dbt.adapters.{adapter}): "
            f"{adapter_install(adapter, method)}")


def project_profile(root: Path) -> dict:
    """The project's profile (dbt_project.yml's `profile`) in its profiles.yml; {} without one."""
    try:
        with open(root / "profiles.yml") as handle:
            profiles = yaml.safe_load(handle) or {}
        profile = profiles[project_config(root).get("profile")]
    except (OSError, KeyError, TypeError, AttributeError, yaml.YAMLError):
        return {}
    return profile if isinstance(profile, dict) else {}


def profile_outputs(root: Path) -> dict[str, dict]:
    """The outputs of the project's profile in profiles.yml, by name."""
    outputs = project_profile(root).get("outputs")
    if not isinstance(outputs, dict):
        return {}
    return {str(name): output if isinstance(output, dict) else {} for name, output in outputs.items()}


def profile_targets(root: Path) -> dict[str, str]:
    """The outputs of the project's profile in profiles.yml, by name, with their adapter type."""
    return {name: str(output.get("type")) for name, output in profile_outputs(root).items()}


def default_target(root: Path) -> str | None:
    """The target dbt uses when none is named: the profile's `target` in the project's profiles.yml."""
    target = project_profile(root).get("target")
    return None if target is None else str(target)


def profile_warehouse(root: Path, target: str | None) -> Path | None:
    """The DuckDB file a target's `path` names when WAREHOUSE_PATH is not set, rendered as dbt
    renders it (`env_var`), relative to the project; None for a target without one (Spark)."""
    output = profile_outputs(root).get(target or "")
    if not output or output.get("type") != "duckdb" or not isinstance(output.get("path"), str):
        return None

    path = output["path"]
    if "{{" in path:  # dbt's `{{ env_var(...) }}`: nothing else is offered to it
        try:
            path = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(path).render(
                env_var=lambda name, default=None: os.environ.get(name, default))
        except jinja2.TemplateError:
            return None
    if not path or path == ":memory:" or "://" in path:  # no file of its own: MotherDuck, memory
        return None
    return Path(path) if Path(path).is_absolute() else root / path
