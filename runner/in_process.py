"""What an invocation of dbt inside the runner's own process needs around it: its environment
variables, the engine's stderr sent to a log, and no garbage collection while dbt loads."""

from __future__ import annotations

import gc
import os
import sys
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def environment(**values: str):
    """Set environment variables for one dbt invocation, then put them back as they were."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def stderr_to(path: Path):
    """Send what is written to file descriptor 2 while dbt runs to a file: dbt itself prints nothing
    (--log-level none), but a Spark session started by dbt-spark is a JVM that inherits the runner's
    stderr and writes its WARN lines there for as long as it lives. Python's sys.stderr is flushed
    first, so nothing of the runner's own goes astray."""
    sys.stderr.flush()
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


@contextmanager
def collector_paused():
    """No cyclic garbage collection while dbt imports and loads the project. They build over 150,000
    long-lived objects, and every collection meanwhile walks them all again: a quarter of a
    backfill's time went to it (docs/performance.md)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
