"""Invoking dbt in this process, parsing the project once and reusing it for every partition."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import shutil
import time
import uuid
from datetime import date

from runner import code_cache
from runner.artifacts import one_line
from runner.duckdb_file import release_warehouse
from runner.errors import WarehouseError
from runner.fingerprints import code_fingerprint
from runner.in_process import collector_paused, invoke_dbt, stderr_to
from runner.invocation import Invocation
from runner.model_files import PARTITIONED_SELECTOR
from runner.project import PARTITIONED_MODELS_SELECTOR, Project, ProjectModels
from runner.step_log import note

# What the engine (a Spark JVM, a library) writes to stderr while dbt runs, appended, beside the
# invocations' folders: Spark's log lines reach neither the terminal nor the runner's output.
ENGINE_LOG = "engine.log"
PARTIAL_PARSE = "partial_parse.msgpack"  # what dbt keeps of a parse, in each invocation's folder


class Dbt:
    """dbt for one project. Not thread-safe (neither is dbt): one invocation at a time."""

    def __init__(self, project: Project):
        self.project = project
        self._manifest = None
        self._parsed_key: str | None = None  # code_cache.project_key of the project as parsed
        # The spark target's tables and metastore: beside the warehouse file unless SPARK_DIR says where.
        # Spark fixes them when its session starts: one place per process.
        os.environ.setdefault("SPARK_DIR", str(project.warehouse_path.parent / "spark"))
        # DuckDB creates the warehouse file, not its folder (a fresh clone has no data/ output yet).
        project.warehouse_path.parent.mkdir(parents=True, exist_ok=True)

    def _vars(self, **partition_vars) -> str:
        # source_dir is read at parse time (the source's location) and at run time (the files).
        # runner_invocation: the runner records its own results (the hand-run hook stays out of it).
        return json.dumps({"source_dir": str(self.project.source_dir), "runner_invocation": True, **partition_vars})

    def _invoke(self, command: list[str], manifest=None, folder: str | None = None,
                write_json: bool = False) -> tuple[Invocation, object]:
        target_path = self.project.artifacts_dir / (folder or uuid.uuid4().hex)
        # The manifest lives in memory and only the docs site reads a manifest.json: skip writing it
        # (a 0.7 MB file; the partial parse file is written either way).
        result, error = invoke_dbt(command if write_json else [*command, "--no-write-json"], self.project.project_dir,
                                   self.project.target, target_path, self.project.artifacts_dir / ENGINE_LOG, manifest,
                                   env={"WAREHOUSE_PATH": str(self.project.warehouse_path)})  # the profile reads it
        invocation = Invocation(target_path, None)
        if error is not None:
            return Invocation(target_path, error, result.exception), None
        if command[0] in ("build", "seed"):
            if hasattr(result.result, "write"):
                result.result.write(str(invocation.run_results))  # this invocation's own artifact
            if not invocation.run_results.exists():
                return Invocation(target_path, "dbt stopped before writing run_results.json"), None
        return invocation, result.result

    def parse(self) -> Invocation:
        # Before the parse: files changed during it make the key older than the manifest, never newer.
        self._parsed_key = code_cache.project_key(self.project)
        self._prune_parse_folders()
        note(self.project.artifacts_dir, "parsing the project")
        started = time.monotonic()
        with collector_paused():
            invocation, manifest = self._invoke(["parse", "--vars", self._vars()], folder=self._parse_folder())
        note(self.project.artifacts_dir, f"parsed in {time.monotonic() - started:.2f}s"
             + (f": {invocation.error}" if invocation.error else ""))
        if invocation.error is None:
            self._manifest = manifest
            self._resolve_models()
            # The parsed project lives as long as the command: the collector need not scan it again.
            gc.freeze()
        return invocation

    def _resolve_models(self) -> None:
        """The partitioned models as dbt selects them (the `partitioned_models` selector), upstream
        first, and which dbt materializes as incremental: the project's from now on, and remembered
        for the project as parsed, so that a status reads them without dbt."""
        if code_cache.cached(self.project.artifacts_dir, self._parsed_key, kind="models"):
            return
        invocation, listed = self._invoke(["ls", "--selector", PARTITIONED_MODELS_SELECTOR, "--resource-type", "model",
                                           "--output", "json", "--output-keys", "unique_id"], self._manifest, folder="list")
        if invocation.error or not listed:
            return  # the files' reading stands (runner/project.py)
        selected = [json.loads(line)["unique_id"] for line in listed]
        nodes, ordered = self._manifest.nodes, []

        def upstream_first(unique_id: str) -> None:
            if unique_id not in ordered:
                for upstream in nodes[unique_id].depends_on.nodes:
                    if upstream in selected:
                        upstream_first(upstream)
                ordered.append(unique_id)

        for unique_id in selected:
            upstream_first(unique_id)
        models = ProjectModels(tuple(nodes[unique_id].name for unique_id in ordered),
                               tuple(nodes[unique_id].name for unique_id in ordered
                                     if nodes[unique_id].config.materialized == "incremental"))
        code_cache.remember(self.project.artifacts_dir, self._parsed_key, {"partitioned": list(models.partitioned),
                                                              "incremental": list(models.incremental)}, kind="models")
        self.project.models_resolved(models)

    def _parse_folder(self) -> str:
        """A folder per input set (target, warehouse, source folder) keeps its partial_parse.msgpack:
        dbt throws it away when the rendered profile or the vars change, so switching back to a
        warehouse used before parses only what changed."""
        inputs = json.dumps([self.project.target_name, str(self.project.warehouse_path), str(self.project.source_dir)])
        return "parse-" + hashlib.sha256(inputs.encode()).hexdigest()[:12]

    def _prune_parse_folders(self) -> None:
        """Keep the parse folders of the last few input sets, as code_cache keeps their fingerprints."""
        mine = self._parse_folder()
        others = sorted((path for path in self.project.artifacts_dir.glob("parse-*") if path.name != mine),
                        key=lambda path: path.stat().st_mtime, reverse=True)
        for old in others[code_cache.KEPT - 1:]:
            shutil.rmtree(old, ignore_errors=True)

    def parse_if_changed(self, key: str) -> Invocation | None:
        """Parse again when the project's code (its code_cache.project_key now: key) changed since
        it was parsed: a long-lived watcher must not load with yesterday's models. None when the
        parsed project is current."""
        if self._manifest is not None and key == self._parsed_key:
            return None
        self._manifest = None
        gc.unfreeze()  # the old project's objects may go
        return self.parse()

    def docs_generate(self) -> Invocation:
        """`dbt docs generate --static` in a folder of its own ("docs"), with manifest.json (the site
        serves it), starting from the runner's last parse; usage tracking off: nothing is sent."""
        parsed, docs = (self.project.artifacts_dir / folder / PARTIAL_PARSE for folder in (self._parse_folder(), "docs"))
        if parsed.is_file() and not docs.is_file():  # dbt checks it, and parses in full if it no longer matches
            docs.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(parsed, docs)
        return self._invoke(["docs", "generate", "--static", "--no-send-anonymous-usage-stats", "--vars", self._vars()],
                            folder="docs", write_json=True)[0]

    def seed(self) -> Invocation:
        note(self.project.artifacts_dir, "seeding")
        started = time.monotonic()
        invocation = self._invoke(["seed", "--vars", self._vars()], self._manifest)[0]
        if invocation.error is None:  # a failure is the caller's line (runner/backfills.py)
            note(self.project.artifacts_dir, f"seeded in {time.monotonic() - started:.2f}s")
        return invocation

    def build_partitions(self, dates: list[date]) -> Invocation:
        """Build the partitioned models and their tests for these partitions, in one invocation."""
        if self._manifest is None:
            parsed = self.parse()
            if parsed.error:
                return parsed
        days = [day.isoformat() for day in dates]
        partition_vars = {"partition_date": days[0]} if len(days) == 1 else {"partition_dates": days}
        # Unit tests do not depend on the data: `make test` runs them, not every partition.
        command = ["build", "--selector", PARTITIONED_SELECTOR, "--exclude-resource-type", "unit_test",
                   "--vars", self._vars(**partition_vars)]
        return self._invoke(command, self._manifest)[0]

    def remember_built_code(self, fingerprints: dict[str, str]) -> None:
        """A build in which every partitioned node passed compiled each partitioned model: what
        code_fingerprints would compile, for the project as parsed."""
        if self._parsed_key and fingerprints:
            code_cache.remember(self.project.artifacts_dir, self._parsed_key, fingerprints)

    def code_fingerprints(self, sample_day: date) -> dict[str, str]:
        """Each partitioned model's code as it is now: the fingerprint of its compiled SQL.
        Remembered until the project changes, so that status need not start dbt."""
        key = code_cache.project_key(self.project)
        remembered = code_cache.cached(self.project.artifacts_dir, key)
        if remembered is not None:
            return remembered
        if self._manifest is None and self.parse().error:
            return {}
        invocation, result = self._invoke(
            ["compile", "--selector", PARTITIONED_MODELS_SELECTOR,
             "--vars", self._vars(partition_date=sample_day.isoformat())],
            self._manifest, folder="compile",
        )
        if invocation.error or not result:
            return {}
        fingerprints = {
            node.node.name: code_fingerprint(node.node.compiled_code, self.project.daily_files)
            for node in result.results
            if node.node.resource_type == "model" and node.node.compiled_code
        }
        if fingerprints:
            code_cache.remember(self.project.artifacts_dir, key, fingerprints)
        return fingerprints

    @property
    def parsed(self) -> bool:
        return self._manifest is not None

    def relation_name(self, model: str) -> str | None:
        """The model's relation as dbt renders it for this target, from the parsed project."""
        node = self._manifest.nodes.get(f"model.{self._manifest.metadata.project_name}.{model}") if self._manifest else None
        return node.relation_name if node is not None else None

    def query(self, sql: str) -> tuple[list[str], list[tuple]]:
        """Run one query through the dbt adapter this process already holds, so that it works on
        whichever engine the target is: its column names and rows."""
        if self._manifest is None and self.parse().error:
            raise WarehouseError("dbt could not parse the project")
        from dbt.adapters.factory import FACTORY
        from dbt_common.exceptions import DbtRuntimeError

        adapter = FACTORY.lookup_adapter(self._manifest.metadata.adapter_type)
        try:
            with adapter.connection_named("runner-query"), stderr_to(self.project.artifacts_dir / ENGINE_LOG):
                _, table = adapter.execute(sql, fetch=True)
        except DbtRuntimeError as error:
            raise WarehouseError(one_line(str(error)) or type(error).__name__) from None
        return list(table.column_names), [tuple(row) for row in table.rows]


def end_of_command() -> None:
    """Let go of what one runner command held: the warehouse file and the frozen parsed project."""
    release_warehouse()
    gc.unfreeze()
