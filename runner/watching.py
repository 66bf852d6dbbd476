"""`runner watch`: a sensor. It catches up, then loads each daily file of the source folder once the
file is complete (runner/arrivals.py), through the backfill's own loading path, keeping dbt parsed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from runner import backfills, code_cache
from runner.arrivals import Arrivals
from runner.backfill_records import Origin
from runner.backfills import BackfillResult, LoadSettings, SeedError
from runner.dbt import Dbt
from runner.events import load_events
from runner.folder_events import FolderEvents
from runner.ledger_snapshot import write_snapshot
from runner.loading import Outcome
from runner.planning import DEFAULT_SELECTION, gather
from runner.render_json import waiting_json
from runner.state_table import WAITING

Event = dict  # one thing the watcher did or saw, as printed (one JSON object per line with --json)


@dataclass(frozen=True)
class WatchSettings:
    settle: float = 2.0  # seconds a file must stay unchanged before it is loaded (unless renamed into place)
    poll: float | None = None  # seconds between looks at the folder; None: file events
    retry_after: float = 30.0  # seconds before a load that failed on a lock or an I/O error is tried again
    rescan: float = 600.0  # seconds between catch-ups of the whole range: a safety net for missed events


class Watcher(FolderEvents):
    """Loads what needs it, now and whenever a daily file arrives, changes or is fixed."""

    def __init__(self, dbt: Dbt, load: LoadSettings, watch: WatchSettings, report: Callable[[Event], None]):
        self.dbt, self.project, self.settings, self.watch_settings = dbt, dbt.project, load, watch
        self.report = report
        self.arrivals = Arrivals(watch.settle)
        self.ignored: set[Path] = set()
        self.held_back: set[date] = set()  # complete files waiting for the project to parse again
        self.broken_key: str | None = None  # the project as it was when it last failed to parse
        # Loads that failed on something passing (a lock held by a backfill, an I/O error), and when
        # to try them again: their files will not change to wake the watcher.
        self.retry_at: dict[date, float] = {}
        self.watching = False  # in `run`: no failure may end it (with --once, a seed failure does)
        self.early: dict[date, Path] = {}  # files of days not closed yet: loaded when their day closes
        self.due_end = self.project.defined_partitions().bounds()[1]  # the last day due, as last looked
        self.clock_looked = self.rescanned = time.monotonic()

    def catch_up(self, quiet: bool = False) -> BackfillResult | None:
        """Load every defined partition that is missing, failed or stale, as `runner backfill` does,
        then say so: how many loaded and failed, and which days await their files (`quiet`: only
        when it loaded or failed something)."""
        return self.load(self.project.defined_partitions().dates(), catching_up=True, quiet=quiet)

    def follow_clock(self) -> BackfillResult | None:
        """At each day boundary, load the days that became due (a file that landed before its day
        closed loads now); every `rescan` seconds, catch up on the whole range (a missed event)."""
        now = time.monotonic()
        if now - self.clock_looked < 1.0:  # the project's vars are read at most once a second
            return None
        self.clock_looked = now
        end = self.project.defined_partitions().bounds()[1]
        if end != self.due_end:
            due = [day for day in list(self.early) if day <= end]
            for day in due:
                del self.early[day]
            self.due_end = end
            self.report({"event": "day_closed", "last_due": end.isoformat(), "message": f"partitions now due up to {end}"})
            self.rescanned = now
            return self.catch_up()
        if now - self.rescanned >= self.watch_settings.rescan:
            self.rescanned = now
            return self.catch_up(quiet=True)
        return None

    def load(self, dates: list[date], catching_up: bool = False, quiet: bool = False) -> BackfillResult | None:
        """Load those of the dates that need it (missing, failed or stale); say why the others are
        skipped (a catch-up sums them up instead)."""
        # A parsed project must be the current one before it judges the code; an unparsed one is
        # not needed to plan (the code's fingerprints are remembered), only to load.
        checked = self.dbt.parsed
        if checked and not self.parsed():
            self.held_back.update(dates)
            return None
        evidence = gather(self.project, self.dbt, dates, verify=True, record=True)
        statuses = evidence.statuses(dates)
        todo = [status.partition_date for status in statuses
                if status.state in DEFAULT_SELECTION and status.partition_date not in evidence.without_file]
        if todo and not checked and not self.parsed():
            self.held_back.update(todo)
            return None
        if not catching_up:
            for status in statuses:
                if status.partition_date not in todo:
                    self.report({"event": "skipped", "partition_date": status.partition_date.isoformat(),
                                 "state": status.state, "message": status.message or status.state})
        result = None
        if todo:
            try:
                # One backfill record per load, by `watch`: the range looked at, the days it loads.
                origin = Origin("watch", min(dates), max(dates), ",".join(sorted(DEFAULT_SELECTION)))
                result = backfills.backfill(self.dbt, todo, self.settings, self.report_outcome, evidence.holdings,
                                            origin=origin)
            except SeedError as error:
                if not self.watching:
                    raise
                self.report({"event": "error", "message": f"{error}; tried again in {self.watch_settings.retry_after:g}s"})
                self.try_again_later(todo)
            finally:  # between loads the warehouse is free: status, a hand dbt run, a backfill
                self.project.engine.release()
            if result is not None:
                self.try_again_later([day for outcome in result.outcomes if outcome.transient for day in outcome.dates])
        if catching_up and not (quiet and result is None):
            self.report({"event": "caught_up", "loaded": result.loaded if result else 0,
                         "failed": len(result.failed) if result else 0,
                         "interrupted": bool(result and result.interrupted),
                         **waiting_json([status for status in statuses if status.state in WAITING])})
        return result

    def try_again_later(self, dates: list[date]) -> None:
        due = time.monotonic() + self.watch_settings.retry_after
        self.retry_at.update(dict.fromkeys(dates, due))

    def report_outcome(self, outcome: Outcome) -> None:
        self.project.engine.release()  # before the line: whoever reads it may query the warehouse at once
        if self.project.engine.copies_ledger_for_dbt:  # ... or the ledger, through dbt's runner_ledger source
            write_snapshot(self.project.ledger_path, self.project.warehouse_path)
        for event in load_events(outcome):
            self.report(event)

    def parsed(self) -> bool:
        """dbt's parsed project matches the code (parsed again when the code changed); False while
        the code does not parse, reported once per broken version."""
        key = code_cache.project_key(self.project)
        if key == self.broken_key:
            return False
        parsed = self.dbt.parse_if_changed(key)
        if parsed is not None and parsed.error:
            self.broken_key = key
            self.report({"event": "error", "message": f"dbt could not parse the project: {parsed.error} "
                                                      f"(log: {parsed.log_file}); loads wait until it parses"})
            return False
        self.broken_key = None
        return True

    def load_complete(self) -> BackfillResult | None:
        """Load the files complete now, together (one chunk), and any held back for the code."""
        ready = {self.project.partition_of_file(path) for path in self.arrivals.complete()}
        now = time.monotonic()
        ready |= {day for day, due in self.retry_at.items() if due <= now}
        dates = sorted(self.held_back | ready)
        if not dates or (not ready and code_cache.project_key(self.project) == self.broken_key):
            return None
        self.held_back.clear()
        for day in ready:
            self.retry_at.pop(day, None)
        return self.load(dates)

    def once(self) -> int:
        """Catch up and stop: backfill's exit codes (0 also when there was nothing to do)."""
        with backfills.sigterm_as_interrupt():
            try:
                result = self.catch_up()
            except KeyboardInterrupt:  # while planning: nothing was in flight
                return 130
        if self.held_back:  # the project does not parse: nothing could be loaded
            return 1
        return result.exit_code if result is not None else 0

    def run(self) -> int:
        """Catch up, then watch until Ctrl-C or SIGTERM: 0 when stopped between loads, 130 during
        one, 1 when the source folder goes away."""
        import watchfiles

        tick = max(50, min(250, int(self.watch_settings.settle * 250)))  # ms: how often waiting files are looked at
        poll = self.watch_settings.poll
        self.watching = True
        with backfills.sigterm_as_interrupt():
            try:
                changes = watchfiles.watch(
                    self.project.source_dir, watch_filter=None, debounce=500, step=20, rust_timeout=tick,
                    yield_on_timeout=True, recursive=self.project.daily_files.nested, force_polling=poll is not None,
                    poll_delay_ms=int((poll or 0.3) * 1000))
                first = next(changes)  # the watcher is up: nothing that lands from now on is missed
                caught_up = self.catch_up()
                if caught_up is not None and caught_up.stopped:
                    return self.stop(caught_up)
                self.report({"event": "watching", "path": str(self.project.source_dir),
                             "settle": self.watch_settings.settle, "poll": poll})
                self.saw(first)
                for batch in changes:
                    if not self.project.source_dir.is_dir():  # its events are gone with it
                        self.report({"event": "error", "message": f"the source folder {self.project.source_dir} "
                                                                  "is gone: stopped watching"})
                        return 1
                    self.saw(batch)
                    result = self.load_complete() or self.follow_clock()
                    if result is not None and result.stopped:
                        return self.stop(result)
            except KeyboardInterrupt:
                pass
        return self.stop(None)

    def stop(self, last: BackfillResult | None) -> int:
        """The signal's exit code: 130 when it cut a load short, else 0."""
        if last is not None and last.interrupted:
            return 130
        self.report({"event": "stopped", "message": "stopped between loads"})
        return 0
