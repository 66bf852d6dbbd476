"""The seeds' contents, fingerprinted: a partition built with an older calendar is stale, and a load
reloads the seeds only when they changed since they were last loaded into this warehouse."""

from __future__ import annotations

import hashlib
import json

from runner.model_files import project_config
from runner.project import Project


def seed_fingerprints(project: Project) -> dict[str, str]:
    """Each seed's SHA-256, by seed name (the CSV files under the project's seed-paths)."""
    found = {}
    for folder in project_config(project.project_dir).get("seed-paths") or ["seeds"]:
        for path in sorted((project.project_dir / folder).rglob("*.csv")):
            found[path.stem] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def as_text(fingerprints: dict[str, str]) -> str:
    return json.dumps(fingerprints, sort_keys=True)


def changed_seed(recorded: str | None, now: dict[str, str]) -> str | None:
    """The first seed whose content differs from what the partition was built with, if any."""
    if not recorded or not now:
        return None
    try:
        then = json.loads(recorded)
    except ValueError:
        return None
    return next((name for name in sorted(set(then) | set(now)) if then.get(name) != now.get(name)), None)
