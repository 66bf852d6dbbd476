"""The runner's own log, one line per step (target/runner/runner.log): when it parsed, seeded, started
and ended each dbt invocation and each load, with the PID, so an unattended night can be read
afterwards (`tail -f target/runner/runner.log` while it runs). dbt's own logs stay per invocation."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

NAME = "runner.log"
MAX_BYTES = 4 * 2**20  # then the log starts again, the last one kept as runner.log.1


def log_path(artifacts_dir: Path) -> Path:
    return artifacts_dir / NAME


def note(artifacts_dir: Path, message: str) -> None:
    """Append one line; a log that cannot be written never stops a load."""
    path = log_path(artifacts_dir)
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > MAX_BYTES:
            os.replace(path, path.with_name(NAME + ".1"))
        with open(path, "a") as handle:
            handle.write(f"{stamp} pid {os.getpid()} {message}\n")
    except OSError:
        pass
