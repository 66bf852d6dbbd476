"""Loading partitions: dbt builds of one partition or a chunk, each result written to the ledger at once."""

from __future__ import annotations

import functools
import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TypeVar

from runner import warehouse
from runner.artifacts import ArtifactError, RunResults, node_name
from runner.checks import Found, found_by_partition, offending_rows_query
from runner.dbt import Dbt, WarehouseError
from runner.fingerprints import Unreadable, file_fingerprint
from runner.ledger import Ledger
from runner.partitions import days_text
from runner.project import Project
from runner.recording import LoadRecord, built_relations, partition_runs, seeds_loaded, unchanged_during
from runner.seeds import as_text, seed_fingerprints
from runner.states import failure_message

# Failures worth another try: the warehouse locked by another process, an I/O hiccup.
# A missing file, a bad row or a failed test fails the same way every time.
T = TypeVar("T")
TRANSIENT = re.compile(r"Could not set lock|Conflicting lock|database is locked|IO Error: (?!No files found)", re.IGNORECASE)


def retry_transient(attempt: Callable[[], tuple[T, str | None]], retries: int, backoff: Callable[[int], float]) -> tuple[T, int]:
    """Run attempt() until it returns no error message, or a message that is not transient,
    or retries run out. Returns the last result and how many attempts it took."""
    for tried in range(retries + 1):
        result, error = attempt()
        if not (error and TRANSIENT.search(error)) or tried == retries:
            return result, tried + 1
        time.sleep(backoff(tried))
    raise AssertionError("unreachable")


def file_size(path: Path) -> int | None:
    """The file's size in bytes; None when it is not there or cannot be read (one stat per day of a
    backfill): such a day loads alone, and fails alone."""
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_size if stat.S_ISREG(found.st_mode) and os.access(path, os.R_OK) else None


def chunked(sizes: dict[date, int], max_days: int, max_bytes: int | None) -> list[list[date]]:
    """The days (with their files' sizes) in order, cut into runs of at most max_days and at most
    max_bytes. A chunk's memory grows with its rows, so large days make short chunks; a day larger
    than max_bytes is a chunk of its own."""
    chunks: list[list[date]] = []
    held = 0
    for day in sorted(sizes):
        size = sizes[day]
        if not chunks or len(chunks[-1]) == max_days or (max_bytes is not None and held + size > max_bytes):
            chunks.append([])
            held = 0
        chunks[-1].append(day)
        held += size
    return chunks


def invocations(project: Project, dates: list[date], chunk_size: int, chunk_bytes: int | None) -> list[list[date]]:
    """The partitions of each dbt invocation a load of these dates makes, in order."""
    sizes = {day: file_size(project.source_file(day)) for day in dates}
    present = {day: size for day, size in sizes.items() if size is not None}
    # A day without a file fails on its own, with dbt's own message, without failing a chunk.
    alone = [[day] for day, size in sizes.items() if size is None]
    return sorted(alone + chunked(present, chunk_size, chunk_bytes))


class Interrupted(Exception):
    """Ctrl-C or SIGTERM stopped a load; the partitions in flight are recorded as interrupted.
    `done`: the signal came while the load's results were being written, and the write finished."""

    def __init__(self, dates: list[date], done: Outcome | None = None):
        super().__init__(f"interrupted while loading {days_text(dates)}")
        self.dates, self.done = dates, done


@dataclass(frozen=True)
class Outcome:
    """What happened to the partitions of one dbt invocation."""

    dates: list[date]
    ok: bool
    invocation_id: str
    seconds: float
    message: str | None = None
    rows: dict[date, int] = field(default_factory=dict)
    log_file: Path | None = None
    attempts: int = 1

    @property
    def transient(self) -> bool:
        return not self.ok and bool(TRANSIENT.search(self.message or ""))


class Loader:
    def __init__(self, dbt: Dbt, ledger: Ledger, primary_model: str, retries: int = 0,
                 backoff: Callable[[int], float] = lambda attempt: 0.5 * 2 ** attempt):
        self.dbt, self.ledger, self.primary_model = dbt, ledger, primary_model
        self.retries, self.backoff = retries, backoff

    def load_range(self, dates: list[date], chunk_size: int, chunk_bytes: int | None = None,
                   on_start: Callable[[list[date]], None] = lambda dates: None) -> Iterator[Outcome]:
        """Load dates in order: at most chunk_size consecutive partitions per dbt invocation, and
        at most chunk_bytes of their files (None: no bound). A failed chunk is split until its
        failing partitions stand alone, so every partition's record is its own and the good
        partitions of the chunk still load. on_start(dates): an invocation (a chunk, or half of a
        failed one) is about to load these partitions."""
        for batch in invocations(self.dbt.project, dates, chunk_size, chunk_bytes):
            yield from self._load_isolating(batch, on_start)

    def _load_isolating(self, dates: list[date], on_start: Callable[[list[date]], None]) -> Iterator[Outcome]:
        on_start(dates)
        outcome = self.load_with_retries(dates)
        if outcome.ok or len(dates) == 1:
            yield outcome
            return
        middle = len(dates) // 2
        yield from self._load_isolating(dates[:middle], on_start)
        yield from self._load_isolating(dates[middle:], on_start)

    def load_with_retries(self, dates: list[date]) -> Outcome:
        """Load, trying again after a backoff while the failure is transient (a lock, an I/O error)."""
        outcome, attempts = retry_transient(lambda: self._attempt(dates), self.retries, self.backoff)
        return Outcome(**{**outcome.__dict__, "attempts": attempts})

    def _attempt(self, dates: list[date]) -> tuple[Outcome, str | None]:
        outcome = self.load(dates)
        return outcome, None if outcome.ok else outcome.message

    @functools.cached_property
    def seeds(self) -> dict[str, str]:
        return seed_fingerprints(self.dbt.project)

    def seed(self, tables: frozenset[str] | None) -> str | None:
        """Load the seeds when they changed since they were last loaded into this warehouse (or
        are not among its tables: None when those are unknown), with the same retries as the
        partitions. The error, if it failed."""
        warehouse = str(self.dbt.project.warehouse_path)
        if tables is not None and set(self.seeds) <= tables and self.ledger.seeded(warehouse) == self.seeds:
            return None
        seeded = retry_transient(lambda: (done := self.dbt.seed(), done.error), self.retries, self.backoff)[0]
        if seeded.error:
            return f"{seeded.error} (log: {seeded.log_file})"
        seeds_loaded(self.ledger, warehouse, self.seeds)
        return None

    def load(self, dates: list[date]) -> Outcome:
        """Build these partitions in one invocation and record every node's result for each.
        A marker row says they are in flight until then, so a killed runner leaves a true ledger."""
        started = time.monotonic()
        project = self.dbt.project
        files = {day: project.source_file(day) for day in dates}
        fingerprints = {day: file_fingerprint(path) for day, path in files.items()}
        record = LoadRecord(self.ledger, dates, files)  # in flight, until one of its ends below
        unreadable = next((value for value in fingerprints.values() if isinstance(value, Unreadable)), None)
        if unreadable is not None:  # refused before dbt, which would fail it without naming the file
            record.stopped("error", str(unreadable))
            return Outcome(dates, False, record.marker, time.monotonic() - started, str(unreadable))
        try:
            invocation = self.dbt.build_partitions(dates)  # raises KeyboardInterrupt on a signal
            try:
                results = invocation.results()
            except ArtifactError as error:
                record.stopped("error", str(error))
                return Outcome(dates, False, record.marker, time.monotonic() - started, str(error),
                               log_file=invocation.log_file)
            contents = warehouse.measure(self.dbt, built_relations(results), dates)
            found = self.found_by_checks(results)
        except KeyboardInterrupt:
            record.stopped("interrupted", "interrupted by Ctrl-C or SIGTERM")
            raise Interrupted(dates) from None
        runs = partition_runs(results, files, unchanged_during(fingerprints, files), contents, project.daily_files, found,
                              as_text(self.seeds))
        outcome = Outcome(
            dates, results.ok, results.invocation_id, time.monotonic() - started,
            None if results.ok else failure_message(runs),
            {day: contents[(self.primary_model, day)].rows for day in dates if (self.primary_model, day) in contents},
            invocation.log_file,
        )
        try:
            record.finished(runs)
        except KeyboardInterrupt:  # held until the write was done (held_signals.signals_held): it is recorded
            raise Interrupted(dates, done=outcome) from None
        if results.ok:  # then `runner status` need not compile the models to know their code
            self.dbt.remember_built_code({node_name(run.unique_id): run.code_fingerprint
                                          for run in runs if run.resource_type == "model" and run.code_fingerprint})
        return outcome

    def found_by_checks(self, results: RunResults) -> dict[str, dict[date, Found]]:
        """What each failed or warning test found, by partition: its own SQL run again. A test
        whose rows cannot be read again keeps dbt's own message."""
        found = {}
        for node in results.nodes:
            if node.resource_type == "test" and node.status in ("fail", "warn") and node.compiled_code:
                try:
                    found[node.unique_id] = found_by_partition(*self.dbt.query(offending_rows_query(node.compiled_code)))
                except (WarehouseError, KeyError):
                    continue
        return found
