"""The partitioned models read from the project's own files, without dbt: what the runner knows of a
project before its first parse (after one, dbt's own resolution: Dbt._resolve_models)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from runner.errors import ProjectError

PARTITIONED_SELECTOR = "partitioned"
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the models' properties files: a few ms, not 20
MATERIALIZED_IN_SQL = re.compile(r"""config\([^)]*\bmaterialized\s*=\s*['"](\w+)['"]""")


def project_config(root: Path) -> dict:
    with open(root / "dbt_project.yml") as handle:
        return yaml.safe_load(handle) or {}


def partitioned_models(root: Path) -> tuple[str, ...]:
    """The partitioned models in lineage order: the `method: fqn` entries of the `partitioned`
    selector's union in the project's selectors.yml, read as plain YAML (status never imports dbt)."""
    try:
        with open(root / "selectors.yml") as handle:
            selectors = (yaml.safe_load(handle) or {}).get("selectors") or []
        (selector,) = [entry for entry in selectors if entry.get("name") == PARTITIONED_SELECTOR]
        names = tuple(str(entry["value"]) for entry in selector["definition"]["union"] if entry.get("method") == "fqn")
    except (OSError, ValueError, KeyError, TypeError, AttributeError, yaml.YAMLError):
        names = ()
    if not names:
        raise ProjectError(f"{root / 'selectors.yml'}: no selector {PARTITIONED_SELECTOR!r} whose definition is a union of "
                           "`method: fqn` entries, one per partitioned model")
    return names


def materializations(root: Path, models: tuple[str, ...]) -> dict[str, str]:
    """Each model's `materialized` (in the order of `models`), read from the files without dbt, in
    dbt's order of precedence: a literal `config(materialized=...)` in its SQL, else `config:
    materialized:` in its properties, else the deepest `+materialized` of its folders under
    `models:` in dbt_project.yml, else dbt's default, view."""
    config = project_config(root)
    found: dict[str, str] = {}
    for folder in config.get("model-paths") or ["models"]:
        base = root / folder
        for path in sorted(base.rglob("*.y*ml")):
            for entry in (yaml.load(path.read_text(), Loader=YAML_LOADER) or {}).get("models") or []:
                if entry.get("name") in models and (entry.get("config") or {}).get("materialized"):
                    found[entry["name"]] = str(entry["config"]["materialized"])
        for path in sorted(base.rglob("*.sql")):
            if path.stem in models:
                literal = MATERIALIZED_IN_SQL.search(path.read_text())
                in_folder = folder_materialization(config, path.relative_to(base).parent.parts)
                found[path.stem] = literal[1] if literal else found.get(path.stem, in_folder)
    return {name: found[name] for name in models if name in found}


def folder_materialization(config: dict, folders: tuple[str, ...]) -> str:
    """The materialization dbt_project.yml sets for a folder of models: the deepest on its path."""
    level = (config.get("models") or {}).get(config.get("name")) or {}
    value = level.get("+materialized", level.get("materialized", "view"))
    for part in folders:
        level = level.get(part)
        if not isinstance(level, dict):
            break
        value = level.get("+materialized", level.get("materialized", value))
    return str(value)

