"""What dbt said of the project as it is now, remembered with what it was said of, so that `runner
status` need not start dbt (about 10 s here) while the project has not changed: the models' code
fingerprints, and the partitioned models as dbt resolved them (their order, which are incremental)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from importlib import metadata
from pathlib import Path
from typing import Protocol

import yaml

# What the compiled SQL of a model can depend on, besides the files: the packages that compile it.
PACKAGES = ("dbt-core", "dbt-duckdb", "dbt-spark")
ENV_VAR = re.compile(r"""env_var\(\s*['"]([^'"]+)['"]""")
PATH_KEYS = {"model-paths": ["models"], "macro-paths": ["macros"], "seed-paths": ["seeds"]}
KEPT = 8  # input sets remembered: warehouses, source folders and targets switched between


class Project(Protocol):
    """What the key needs of a project (runner/project.py's Project): its input set."""

    project_dir: Path
    warehouse_path: Path
    source_dir: Path

    @property
    def target_name(self) -> str | None: ...


def project_key(project: Project) -> str:
    """SHA-256 of everything a model's compiled SQL depends on: the project's configuration, models,
    macros and seeds, the environment variables they read, the target, the warehouse and source
    folder, and the versions of dbt and its adapters."""
    return _key(project.project_dir, {"target": project.target_name, "warehouse": str(project.warehouse_path),
                                      "source_dir": str(project.source_dir)})


def vars_key(project_dir: Path, target: str | None) -> str:
    """SHA-256 of what dbt's rendering of the project's vars depends on: project_key without the
    warehouse and the source folder (which the vars may set)."""
    return _key(project_dir, {"target": target})


def _key(project_dir: Path, inputs: dict) -> str:
    digest = hashlib.sha256()
    texts = []
    for path in _inputs(project_dir):
        data = path.read_bytes()
        digest.update(f"{path.relative_to(project_dir)}\0{len(data)}\0".encode())
        digest.update(data)
        texts.append(data.decode(errors="replace"))
    env_names = sorted({name for text in texts for name in ENV_VAR.findall(text)})
    digest.update(json.dumps({
        **inputs,
        "env": {name: os.environ.get(name) for name in env_names},
        "packages": {name: _version(name) for name in PACKAGES},
    }, sort_keys=True).encode())
    return digest.hexdigest()


def runner_folder(project_dir: Path) -> Path:
    """The runner's own files in a project (its dbt artifacts, this cache): never dbt's target/ itself."""
    return project_dir / "target" / "runner"


def cached(folder: Path, key: str, kind: str = "fingerprints") -> dict | None:
    """What is remembered of this kind for this key (the fingerprints, the models, the vars), or None."""
    found = next((entry.get(kind) for entry in _entries(folder) if entry.get("key") == key), None)
    return found if isinstance(found, dict) and found else None


def remember(folder: Path, key: str, value: dict, kind: str = "fingerprints") -> None:
    """Remember this (of this kind) for the key first, keeping the last few other keys too: users
    switch between a scratch and a real warehouse, or source folder, and switching back should cost
    no compile."""
    entries = _entries(folder)
    mine = next((entry for entry in entries if entry.get("key") == key), {"key": key})
    entries = [{**mine, kind: value}] + [entry for entry in entries if entry.get("key") != key][:KEPT - 1]
    path = _cache_file(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}")
    partial.write_text(json.dumps({"entries": entries}, sort_keys=True))
    partial.replace(path)  # whole or not at all, whichever runner writes last


def _entries(folder: Path) -> list[dict]:
    try:
        remembered = json.loads(_cache_file(folder).read_text())
    except (OSError, ValueError):
        return []
    entries = remembered.get("entries") if isinstance(remembered, dict) else None
    return [entry for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []


def _cache_file(folder: Path) -> Path:
    return folder / "code_fingerprints.json"


def _inputs(root: Path) -> list[Path]:
    with open(root / "dbt_project.yml") as handle:
        config = yaml.safe_load(handle) or {}
    files = [root / name for name in ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml")]
    for key, default in PATH_KEYS.items():
        for folder in config.get(key) or default:
            files += (path for path in (root / folder).rglob("*") if path.is_file())
    return sorted(path for path in files if path.is_file())


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None
