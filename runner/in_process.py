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


def invoke_dbt(command: list[str], project_dir: Path, target: str | None, target_path: Path, engine_log: Path,
               manifest=None, env: dict[str, str] | None = None):
    """`dbt <command>` in this process for the project and target: silent on the terminal, its log
    and artifacts in target_path, the engine's stderr in engine_log. Its result and its error on one
    line (None when it ran). Ctrl-C or SIGTERM caught by dbt is raised again: it is the caller's."""
    from dbt.cli.main import dbtRunner  # dbt takes a second to import; only pay it when running

    target_path.mkdir(parents=True, exist_ok=True)
    args = [*command, "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
            *(["--target", target] if target else []), "--target-path", str(target_path), "--log-path", str(target_path),
            "--log-level", "none", "--log-level-file", "info"]
    with environment(**(env or {})), stderr_to(engine_log):
        result = dbtRunner(manifest=manifest).invoke(args)
    if isinstance(result.exception, KeyboardInterrupt):
        raise KeyboardInterrupt
    if result.exception is None:
        return result, None
    return result, " ".join(str(result.exception).split()) or type(result.exception).__name__
