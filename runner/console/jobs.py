"""Backfills launched from the console: each a separate `runner backfill --json-lines` process, one at
a time (the running one holds the warehouse's lock), whose events (runner/events.py) the page shows.
The plan is made here, in the console's process, by the CLI's own planning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

import click

from runner.artifacts import ArtifactError
from runner.backfill_plan import plan_backfill
from runner.console.job_options import Options
from runner.errors import ProjectError
from runner.ledger import LedgerError
from runner.partitions import date_range
from runner.project import Project
from runner.render import nothing_to_do_output, summary_lines
from runner.render_json import plan_entries

KEPT_LINES = 400


class Refused(Exception):
    """A backfill cannot start now."""


@dataclass
class Job:
    """A launched backfill, as its events tell it: the plan, the invocation under way, each
    partition's outcome, the summary. Output that is no event (an error line) is kept as text."""

    options: Options
    process: subprocess.Popen
    started_at: datetime
    # The `plan` event's partitions; until it comes, the plan the page showed for these very
    # options (made here a moment before), so that the page shows them queued at once.
    plan: list[dict] | None = None
    running_now: list[str] = field(default_factory=list)  # the partitions of the last `chunk` event
    outcomes: dict[str, dict] = field(default_factory=dict)  # the `load` events, by partition
    ended: dict | None = None  # the `summary` event
    lines: list[str] = field(default_factory=list)
    returncode: int | None = None
    seen: int = 0  # lines taken: with the exit code, what the console's change cursor knows of the job

    def take(self, line: str) -> None:
        """One line of the process's output: an event, or text."""
        self.seen += 1
        try:
            event = json.loads(line)
        except ValueError:
            event = None
        kind = event.get("event") if isinstance(event, dict) else None
        if kind == "plan":
            self.plan = event["partitions"]
        elif kind == "chunk":
            self.running_now = event["partitions"]
        elif kind == "load":
            self.outcomes[event["partition_date"]] = event
        elif kind == "summary":
            self.ended = event
        else:
            self.lines.append(line)
            del self.lines[:-KEPT_LINES]

    @property
    def running(self) -> bool:
        return self.returncode is None

    @property
    def total(self) -> int | None:
        return len(self.plan) if self.plan is not None else None

    def pending(self) -> dict[str, str]:
        """The planned partitions it has not finished: those of the dbt invocation under way are
        `running`, the later ones `queued`."""
        if not self.running or not self.plan:
            return {}
        running = set(self.running_now)
        return {item["partition_date"]: "running" if item["partition_date"] in running else "queued"
                for item in self.plan if item["partition_date"] not in self.outcomes}

    @property
    def done(self) -> int:
        return len(self.outcomes)

    @property
    def failed(self) -> int:
        return sum(1 for event in list(self.outcomes.values()) if event["outcome"] == "failed")

    @property
    def summary(self) -> str | None:
        """The summary line `runner backfill` would print."""
        if self.ended is None:
            return None
        if self.plan == []:
            return nothing_to_do_output([self.options.start, self.options.end], set(self.options.only), [], False)
        failed = [(day, event["message"]) for day, event in list(self.outcomes.items()) if event["outcome"] == "failed"]
        return summary_lines(self.ended["loaded"], failed, self.ended["not_run"], self.ended["interrupted"],
                             self.ended["seconds"], self.ended["wall_seconds"])[0]

    @property
    def cursor(self) -> str:
        """Changes whenever anything the page shows of the job does."""
        return f"{self.process.pid}.{self.seen}.{self.returncode}"

    def banner(self, root: str | None = None) -> str:
        """One line for the page that launched it, following its events: how far it is, then its
        summary and exit code (never "started" once it has ended). `root`: the project's folder,
        left out of the paths in messages."""
        if self.ended is not None:
            text = f"Backfill finished (exit code {self.ended['exit_code']}): {self.summary}"
        elif not self.running:
            last = next((line for line in reversed(self.lines) if line.strip()), None)
            text = f"Backfill ended (exit code {self.returncode})" + (f": {last}" if last else ", with no summary")
        elif self.plan is None:
            text = f"Backfill started (runner PID {self.process.pid}): planning"
        else:
            text = (f"Backfill started (runner PID {self.process.pid}): {self.done} of {self.total} partitions done"
                    + (f", {self.failed} failed" if self.failed else ""))
        return text.replace(root, "") if root else text

    def progress(self, root: str | None = None) -> dict:
        """What /changes tells the page of the job, cheaply (no DuckDB, no file)."""
        return {"pid": self.process.pid, "running": self.running, "returncode": self.returncode,
                "exit_code": self.ended["exit_code"] if self.ended else self.returncode, "done": self.done,
                "failed": self.failed, "total": self.total, "ended": self.ended is not None or not self.running,
                "banner": self.banner(root)}

    def as_dict(self, root: str | None = None) -> dict:
        return {"options": self.options.as_dict(), "pid": self.process.pid, "running": self.running,
                "returncode": self.returncode, "done": self.done, "failed": self.failed, "total": self.total,
                "summary": self.summary, "lines": self.lines[-20:], "banner": self.banner(root)}


class Backfills:
    """The console's backfills: plans made in-process, and at most one load at a time."""

    def __init__(self, project: Project):
        self.project = project
        self.current: Job | None = None
        self._lock = threading.Lock()
        self._planned: tuple[Options, list[dict]] | None = None  # the last plan made, and for which options

    def _command(self, options: Options, *extra: str) -> list[str]:
        command = [sys.executable, "-m", "runner", "--project-dir", str(self.project.project_dir)]
        if self.project.target:
            command += ["--target", self.project.target]
        return [*command, *options.arguments(), "--source-dir", str(self.project.source_dir), *extra]

    def _environment(self) -> dict[str, str]:
        # The same warehouse and ledger as the console, whatever the child's working directory.
        return {**os.environ, "WAREHOUSE_PATH": str(self.project.warehouse_path), "LEDGER_PATH": str(self.project.ledger_path),
                "PYTHONUNBUFFERED": "1"}

    def plan(self, options: Options) -> list[dict]:
        """The plan `runner backfill --dry-run --json` prints for these options, made by the same
        function in this process (so under the console's read lock: dbt is not thread-safe);
        Refused with the CLI's error line."""
        try:
            planned = plan_backfill(self.project, date_range(options.start, options.end), set(options.only),
                                    options.settings)
        except click.ClickException as error:
            raise Refused(error.format_message()) from None
        except (ProjectError, LedgerError, ArtifactError) as error:
            raise Refused(str(error)) from None
        entries = plan_entries(planned.planned, planned.chunks)
        self._planned = (options, entries)
        return entries

    def start(self, options: Options) -> Job:
        with self._lock:
            job = self.current
            if job is not None and job.running:
                raise Refused(
                    f"a backfill is already running (runner PID {job.process.pid}, started {job.started_at:%H:%M:%S} UTC) and "
                    f"holds the warehouse's lock on {self.project.warehouse_path}: wait for it to finish"
                )
            process = subprocess.Popen(self._command(options, "--json-lines", "--started-by", "console"), stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True, env=self._environment(), stdin=subprocess.DEVNULL)
            shown = self._planned
            self.current = Job(options, process, datetime.now(UTC),
                               plan=list(shown[1]) if shown is not None and shown[0] == options else None)
            threading.Thread(target=self._follow, args=(self.current,), daemon=True).start()
            return self.current

    @staticmethod
    def _follow(job: Job) -> None:
        for line in job.process.stdout:
            job.take(line.rstrip("\n"))
        job.returncode = job.process.wait()

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM, as the CLI takes it: the partition in flight rolls back and is recorded."""
        job = self.current
        if job is not None and job.process.poll() is None:
            job.process.terminate()
            try:
                job.process.wait(timeout)
            except subprocess.TimeoutExpired:
                job.process.kill()
