"""The backfill loop: seed, then load dates in chunks past failures, under signals, into a result.
The CLI (`run`, `backfill`, `watch`) only prints what it returns."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from runner.backfill_records import Origin, Recording
from runner.dbt import Dbt
from runner.holdings import Holdings
from runner.ledger import Ledger
from runner.loading import Interrupted, Loader, Outcome, invocations
from runner.partitions import days_text
from runner.project import ProjectError
from runner.recording import mark_warehouse, warehouse_changed
from runner.step_log import note

# Partitions per dbt invocation in a backfill (see docs/performance.md).
DEFAULT_CHUNK_SIZE = 365  # one invocation costs seconds whatever its size (bench/): a year in one
# ... and at most 160 MB of CSV (30 days of 100,000 rows; a year of 2,000 is 42 MB). DuckDB's memory
# is capped (profiles.yml), so a larger chunk spills rather than grows: the bound keeps the spill and
# a failed chunk's re-runs small (docs/performance.md, Chunks).
DEFAULT_CHUNK_MB = 160
DEFAULT_RETRIES = 2


class SeedError(ProjectError):
    """`dbt seed` failed: no partition was loaded."""


@dataclass(frozen=True)
class LoadSettings:
    """How a load cuts and tries its partitions; they travel together from the command line."""

    chunk_size: int = DEFAULT_CHUNK_SIZE
    chunk_bytes: int | None = DEFAULT_CHUNK_MB * 2**20
    retries: int = DEFAULT_RETRIES
    fail_fast: bool = False


@dataclass
class BackfillResult:
    """What a backfill did: an outcome per dbt invocation, whether a signal stopped it, how long it took."""

    dates: list[date]
    outcomes: list[Outcome] = field(default_factory=list)
    interrupted: bool = False  # a signal stopped it with partitions not loaded
    stopped: bool = False  # a signal came (perhaps after the last partition): the caller should stop too
    seconds: float = 0.0  # the loads themselves
    wall_seconds: float | None = None  # the whole command, dbt's start-up and the planning included
    set_aside: Path | None = None  # the unreadable warehouse file moved aside before loading

    @property
    def failed(self) -> list[tuple[date, str]]:
        return [(day, outcome.message or "failed") for outcome in self.outcomes if not outcome.ok for day in outcome.dates]

    @property
    def loaded(self) -> int:
        return sum(len(outcome.dates) for outcome in self.outcomes if outcome.ok)

    @property
    def not_run(self) -> int:
        return len(self.dates) - self.loaded - len(self.failed)

    @property
    def exit_code(self) -> int:
        """0 all loaded, 1 a partition failed (or was not run: --fail-fast), 130 interrupted."""
        return 130 if self.interrupted else (1 if self.failed else 0)

    @property
    def status(self) -> str:
        """As its backfill record says it (runner/backfill_records.py)."""
        return "interrupted" if self.interrupted else "failed" if self.failed or self.not_run else "succeeded"


def backfill(dbt: Dbt, dates: list[date], settings: LoadSettings,
             on_outcome: Callable[[Outcome], None] = lambda outcome: None, looked: Holdings | None = None,
             on_start: Callable[[list[date]], None] = lambda dates: None, origin: Origin | None = None) -> BackfillResult:
    """Seed (when the seeds changed), then build the dates in order, going on past failures unless
    settings.fail_fast. Ctrl-C or SIGTERM ends it early, with the partitions in flight recorded as
    interrupted. Raises SeedError when the seeds could not be loaded. `looked`: the warehouse as
    the planning just read it, if it listed the tables (one DuckDB start-up less). on_start(dates):
    a dbt invocation is about to load these partitions; on_outcome(outcome): it did. `origin`: who
    started it, and what was asked: the backfill is recorded as it starts and as it ends."""
    started = time.monotonic()
    ledger = Ledger(dbt.project.ledger_path)
    if origin is None:
        return _backfill(dbt, ledger, dates, settings, on_outcome, looked, on_start, started)
    chunks = invocations(dbt.project, dates, settings.chunk_size, settings.chunk_bytes)
    recording = Recording(ledger, origin, dates, len(chunks))
    try:
        result = _backfill(dbt, ledger, dates, settings, on_outcome, looked, on_start, started)
    except BaseException as error:  # the seeds failed, the ledger, a signal before the loads
        interrupted = isinstance(error, KeyboardInterrupt)
        try:
            recording.finish("interrupted" if interrupted else "failed", 0, 0, [],
                             "interrupted before loading" if interrupted else " ".join(str(error).split())[:300])
        except Exception:  # the ledger itself failed: the first error is the one to tell
            pass
        raise
    recording.finish(result.status, result.loaded, len(result.failed), [outcome.invocation_id for outcome in result.outcomes])
    return result


def _backfill(dbt: Dbt, ledger: Ledger, dates: list[date], settings: LoadSettings, on_outcome, looked: Holdings | None,
              on_start, started: float) -> BackfillResult:
    # Only the runner wrote to the warehouse since its last write: the ledger accounts for all of it.
    engine = dbt.project.engine
    untouched = not warehouse_changed(dbt.project, ledger)
    if looked is None or looked.tables is None:
        looked = engine.look()  # one read-only look serves both the set-aside and the seed check
    result = BackfillResult(dates, set_aside=engine.set_aside_if_unreadable(looked))
    loader = Loader(dbt, ledger, dbt.project.models.primary, retries=settings.retries)
    log = dbt.project.artifacts_dir
    note(log, f"loading {len(dates)} partitions, {dates[0]} to {dates[-1]}" if dates else "nothing to load")
    seed_error = loader.seed(None if result.set_aside else looked.tables)
    if seed_error:
        note(log, f"dbt seed failed: {seed_error}")
        raise SeedError(f"dbt seed failed: {seed_error}")

    def starting(chunk: list[date]) -> None:
        note(log, f"dbt build of {days_text(chunk)}" + (f" ({len(chunk)} partitions)" if len(chunk) > 1 else ""))
        on_start(chunk)

    with sigterm_as_interrupt():
        try:
            for outcome in loader.load_range(dates, settings.chunk_size, settings.chunk_bytes, starting):
                note(log, f"{'loaded' if outcome.ok else 'failed'} {days_text(outcome.dates)}"
                          + f" in {outcome.seconds:.2f}s (invocation {outcome.invocation_id})"
                          + ("" if outcome.ok else f": {outcome.message}"))
                result.outcomes.append(outcome)
                on_outcome(outcome)
                if settings.fail_fast and not outcome.ok:
                    break
        except (Interrupted, KeyboardInterrupt) as stop:  # between partitions, or during one
            if isinstance(stop, Interrupted) and stop.done:
                result.outcomes.append(stop.done)
            result.stopped = True
            # A signal after the last partition's outcome left nothing undone: no interruption.
            result.interrupted = result.not_run > 0
    # Marked when the ledger accounts for the whole warehouse: nothing else wrote to it, or every
    # defined partition's content was proven and everything planned loaded (status then trusts it).
    proven = looked.verified(dbt.project.defined_partitions().dates()) and not result.failed and not result.interrupted
    if untouched or proven:
        mark_warehouse(dbt.project, ledger)
    result.seconds = time.monotonic() - started
    note(log, f"{'interrupted' if result.interrupted else 'done'}: {result.loaded} loaded, {len(result.failed)} failed "
              f"in {result.seconds:.2f}s")
    return result


@contextmanager
def sigterm_as_interrupt():
    """SIGTERM stops a load the way Ctrl-C does: the partition in flight rolls back and is recorded."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
