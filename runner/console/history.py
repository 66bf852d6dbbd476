"""One partition's page: every run of it, newest first, with its nodes, and its file's fingerprint."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from runner.artifacts import node_name
from runner.console.glyphs import display_state
from runner.fingerprints import file_fingerprint
from runner.ledger import Ledger, PartitionRun
from runner.planning import collect
from runner.project import Project
from runner.states import PartitionStatus, invocation_outcome

# dbt's invocation ids are UUIDs; the runner's artifact folders are uuid4().hex (runner/dbt.py).
INVOCATION_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ARTIFACT_FOLDER = re.compile(r"[0-9a-f]{32}")
INVOCATION_IN_RESULTS = re.compile(r'"invocation_id":\s*"([0-9a-f-]{36})"')


@dataclass(frozen=True)
class Node:
    run: PartitionRun

    @property
    def name(self) -> str:
        return node_name(self.run.unique_id)


@dataclass(frozen=True)
class Run:
    invocation_id: str
    finished_at: datetime
    outcome: str  # success, warnings, failed, running, interrupted, error
    rows: int | None
    duration: float
    nodes: list[Node]
    has_log: bool


@dataclass(frozen=True)
class PartitionPage:
    project_name: str
    project_dir: Path
    day: date
    status: PartitionStatus
    state: str
    runs: list[Run]
    file: Path
    fingerprint_now: str | None
    fingerprint_loaded: str | None

    @property
    def loading(self) -> bool:
        return self.state == "running"


class LogIndex:
    """Which artifact folder under target/runner/ holds each dbt invocation's dbt.log. A folder's
    name and path come from listing that folder, never from a request."""

    def __init__(self, artifacts_dir: Path):
        self.artifacts_dir = artifacts_dir
        self._folders: dict[str, str] = {}
        self._seen: set[str] = set()

    def log_file(self, invocation_id: str) -> Path | None:
        if not INVOCATION_ID.fullmatch(invocation_id):
            return None
        if invocation_id not in self._folders:
            self._scan()
        folder = self._folders.get(invocation_id)
        if folder is None:
            return None
        path = self.artifacts_dir / folder / "dbt.log"
        return path if path.is_file() and not path.is_symlink() else None

    def _scan(self) -> None:
        try:
            entries = list(os.scandir(self.artifacts_dir))
        except OSError:
            return
        for entry in entries:
            if entry.name in self._seen or not ARTIFACT_FOLDER.fullmatch(entry.name) or not entry.is_dir(follow_symlinks=False):
                continue
            try:  # metadata comes first in run_results.json: its head names the invocation
                with open(Path(entry.path) / "run_results.json", encoding="utf-8") as handle:
                    found = INVOCATION_IN_RESULTS.search(handle.read(4096))
            except OSError:
                continue  # still running, or stopped before dbt wrote results: look again next time
            self._seen.add(entry.name)
            if found:
                self._folders[found.group(1)] = entry.name




def runs_of(runs: list[PartitionRun], logs: LogIndex, primary_model: str) -> list[Run]:
    by_invocation: dict[str, list[PartitionRun]] = {}
    for run in runs:
        by_invocation.setdefault(run.invocation_id, []).append(run)
    found = []
    for invocation_id, nodes in by_invocation.items():
        nodes.sort(key=lambda r: (r.started_at or r.recorded_at, r.unique_id))
        primary = next((r.rows_loaded for r in nodes if node_name(r.unique_id) == primary_model), None)
        found.append(Run(
            invocation_id, max(r.completed_at or r.recorded_at for r in nodes), invocation_outcome(nodes), primary,
            sum(r.execution_time or 0.0 for r in nodes), [Node(r) for r in nodes],
            logs.log_file(invocation_id) is not None,
        ))
    return sorted(found, key=lambda run: max(r.run.recorded_at for r in run.nodes), reverse=True)


def build(project: Project, day: date, logs: LogIndex, name: str) -> PartitionPage:
    status = collect(project, [day])[0].statuses[0]
    runs = Ledger(project.ledger_path).runs(day, day)
    history = runs_of(runs, logs, project.models.primary)
    latest = history[0].nodes if history else []
    loaded = next((node.run.source_fingerprint for node in latest if node.run.source_fingerprint), None)
    file = project.source_file(day)
    return PartitionPage(name, project.project_dir, day, status, display_state(status), history, file, file_fingerprint(file), loaded)
