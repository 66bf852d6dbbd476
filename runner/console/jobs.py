"""Backfills launched from the console: each a separate `runner backfill` process, one at a time
(the running one holds the warehouse's lock), its output read line by line for the page."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from runner.partitions import parse_partition_date
from runner.planning import DEFAULT_SELECTION, parse_selection
from runner.project import Project

MAX_CHUNK_SIZE = 100_000
PARTITION_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2})  (loaded|failed)\b")
SUMMARY_LINE = re.compile(r"^(Interrupted: )?\d+ loaded, \d+ failed|^Nothing to do")
KEPT_LINES = 400


class OptionsError(ValueError):
    """A launch request's options are not valid: the message says which and why, as the CLI would."""


class Refused(Exception):
    """A backfill cannot start now."""


@dataclass(frozen=True)
class Options:
    """`runner backfill` options, checked as the CLI checks them."""

    start: date
    end: date
    only: tuple[str, ...]
    chunk_size: int

    @classmethod
    def parse(cls, body: object) -> Options:
        if not isinstance(body, dict):
            raise OptionsError("the request is not a JSON object")
        try:
            start = parse_partition_date(_text(body, "start"))
            end = parse_partition_date(_text(body, "end"))
            only = parse_selection(_text(body, "only", ",".join(DEFAULT_SELECTION)))
        except ValueError as error:
            raise OptionsError(str(error)) from None
        if start > end:
            raise OptionsError(f"start {start} is after end {end}")
        size = body.get("chunk_size", 365)
        if isinstance(size, str) and size.strip().isdigit():
            size = int(size)
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_CHUNK_SIZE:
            raise OptionsError(f"chunk_size {size!r} is not a whole number from 1 to {MAX_CHUNK_SIZE}")
        return cls(start, end, tuple(sorted(only)), size)

    def arguments(self) -> list[str]:
        return ["backfill", "--start", self.start.isoformat(), "--end", self.end.isoformat(),
                "--only", ",".join(self.only), "--chunk-size", str(self.chunk_size)]

    def as_dict(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "only": list(self.only), "chunk_size": self.chunk_size}


def _text(body: dict, name: str, default: str | None = None) -> str:
    value = body.get(name, default)
    if not isinstance(value, str):
        raise ValueError(f"{name} is missing" if value is None else f"{name} {value!r} is not text")
    return value


@dataclass
class Job:
    options: Options
    process: subprocess.Popen
    started_at: datetime
    plan: list[dict] | None  # the dry run's plan for the same options, when the page asked for one
    lines: list[str] = field(default_factory=list)
    returncode: int | None = None

    @property
    def running(self) -> bool:
        return self.returncode is None

    @property
    def total(self) -> int | None:
        return len(self.plan) if self.plan is not None else None

    def pending(self) -> dict[str, str]:
        """The planned partitions it has not finished: those of the dbt invocation under way are
        `running` (from the moment the process starts), the later ones `queued`."""
        if not self.running or not self.plan:
            return {}
        finished = {m.group(1) for line in self.lines if (m := PARTITION_LINE.match(line))}
        left = [item for item in self.plan if item["partition_date"] not in finished]
        if not left:
            return {}
        now = min(item["invocation"] for item in left)
        return {item["partition_date"]: "running" if item["invocation"] == now else "queued" for item in left}

    @property
    def done(self) -> int:
        return sum(1 for line in self.lines if PARTITION_LINE.match(line))

    @property
    def failed(self) -> int:
        return sum(1 for line in self.lines if (m := PARTITION_LINE.match(line)) and m.group(2) == "failed")

    @property
    def summary(self) -> str | None:
        return next((line for line in reversed(self.lines) if SUMMARY_LINE.match(line)), None)

    def as_dict(self) -> dict:
        return {"options": self.options.as_dict(), "pid": self.process.pid, "running": self.running,
                "returncode": self.returncode, "done": self.done, "failed": self.failed, "total": self.total,
                "summary": self.summary, "lines": self.lines[-20:]}


class Backfills:
    """The console's backfill processes: the plan (a dry run) and at most one load at a time."""

    def __init__(self, project: Project):
        self.project = project
        self.current: Job | None = None
        self._lock = threading.Lock()
        self._planned: dict[Options, list[dict]] = {}

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
        """`runner backfill --dry-run --json`: the CLI's own plan; Refused with its error line."""
        done = subprocess.run(self._command(options, "--dry-run", "--json"), capture_output=True, text=True,
                              env=self._environment(), timeout=600, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            raise Refused(lines[-1] if lines else f"runner backfill --dry-run exited {done.returncode}")
        planned = json.loads(done.stdout)
        self._planned[options] = planned
        return planned

    def start(self, options: Options) -> Job:
        with self._lock:
            job = self.current
            if job is not None and job.running:
                raise Refused(
                    f"a backfill is already running (runner PID {job.process.pid}, started {job.started_at:%H:%M:%S} UTC) and "
                    f"holds the warehouse's lock on {self.project.warehouse_path}: wait for it to finish"
                )
            process = subprocess.Popen(self._command(options), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                       env=self._environment(), stdin=subprocess.DEVNULL)
            self.current = Job(options, process, datetime.now(UTC), self._planned.get(options))
            threading.Thread(target=self._follow, args=(self.current,), daemon=True).start()
            return self.current

    @staticmethod
    def _follow(job: Job) -> None:
        for line in job.process.stdout:
            job.lines.append(line.rstrip("\n"))
            del job.lines[:-KEPT_LINES]
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
