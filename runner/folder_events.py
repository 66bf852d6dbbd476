"""How `runner watch` reads the source folder's file events: a file to load once it is complete, a
file deleted, a file of a day not closed yet, a file that is no daily file (the Watcher's part)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from runner.arrivals import Arrivals
from runner.project import Project


class FolderEvents:
    """The Watcher's reading of file events, taken in by the Watcher, which holds all this."""

    project: Project
    arrivals: Arrivals
    ignored: set[Path]
    retry_at: dict[date, float]
    early: dict[date, Path]
    report: Callable[[dict], None]

    def saw(self, changes: set[tuple[object, str]]) -> None:
        """Take one batch of file events: arrivals, rewrites, deletions, and files that are not daily files."""
        import watchfiles

        kinds: dict[Path, set] = {}
        for change, name in changes:
            kinds.setdefault(Path(name), set()).add(change)
        defined = self.project.defined_partitions()
        start, end = defined.bounds()
        for folder in [path for path in kinds if self.project.daily_files.may_hold(path) and path.is_dir()]:
            # A dated folder moved into place brings its files with it, without an event of their own.
            for path in folder.rglob("*"):
                kinds.setdefault(path, {watchfiles.Change.added})
        for path, seen in sorted(kinds.items()):
            if path == self.project.source_dir:
                continue
            day = self.project.partition_of_file(path)
            if day is not None and day > end and defined.end is None and path.exists():  # an open end reaches it
                self.wait_for_its_day(day, path)
            elif day is None or not start <= day <= end:
                self.ignore(path, day, start, end)
            elif os.path.lexists(path) and not path.exists():  # a link that leads nowhere readable (a loop)
                self.arrivals.forget(path)
                self.retry_at[day] = time.monotonic()  # its load fails now, saying why
            elif not path.exists():
                self.arrivals.forget(path)
                self.report({"event": "deleted", "partition_date": day.isoformat(), "path": str(path),
                             "message": "the partition keeps what it holds; runner status shows it stale if it was loaded"})
            else:
                self.arrivals.saw(path, renamed=watchfiles.Change.modified not in seen)

    def wait_for_its_day(self, day: date, path: Path) -> None:
        """A file for a day not closed yet: its partition is not defined until the day closes."""
        if day not in self.early:
            self.report({"event": "early", "partition_date": day.isoformat(), "path": str(path),
                         "message": "its day has not closed yet: it loads when it does"})
        self.early[day] = path

    def ignore(self, path: Path, day: date | None, start: date, end: date) -> None:
        # Hidden files are how writers stage a file before renaming it into place: not worth a line.
        if path in self.ignored or path.name.startswith(".") or path.is_dir():
            return
        self.ignored.add(path)
        reason = (f"outside the defined partitions ({start} to {end})" if day is not None
                  else f"not a daily file ({self.project.daily_files.describe()})")
        self.report({"event": "ignored", "path": str(path), "message": reason})
