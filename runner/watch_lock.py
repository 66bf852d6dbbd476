"""One `runner watch` per warehouse: the watch lock, held for as long as a watcher runs and let go
by the kernel when its process ends, however it ends."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from runner.project import Project, UsageProblem


def lock_path(project: Project) -> Path:
    return project.ledger_path.with_name(project.ledger_path.name + ".watch.lock")


class AnotherWatcher(UsageProblem):
    """Another process holds the warehouse's watch lock: `holder` is the PID it wrote there."""

    def __init__(self, holder: str, project: Project, path: Path):
        super().__init__(f"another runner watch (PID {holder}) is watching this warehouse "
                         f"({project.warehouse_path}); its lock: {path}")
        self.holder = holder


@contextmanager
def one_watcher(project: Project) -> Iterator[None]:
    """Hold the warehouse's watch lock (released by the kernel when the process ends, however it ends)."""
    path = lock_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise AnotherWatcher(handle.read().strip() or "unknown", project, path) from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
