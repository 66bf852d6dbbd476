"""Running one contender's commands as child processes: wall seconds and peak RSS."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_rss_mb: float
    exit_code: int
    log: Path


def run_timed(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> Measured:
    """Run one command to completion. Peak RSS comes from wait4() on that child: the largest
    resident set of the child or any descendant it waited for (Linux reports ru_maxrss in KiB)."""
    with open(log, "ab") as out:
        out.write(("$ " + " ".join(command) + "\n").encode())
        out.flush()
        began = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - began
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measured(seconds, usage.ru_maxrss / 1024, process.returncode, log)


def run_all(commands: list[list[str]], cwd: Path, env: dict[str, str], log: Path) -> Measured:
    """Run commands in order, stopping at the first failure: total wall seconds, largest peak RSS."""
    seconds, peak = 0.0, 0.0
    for command in commands:
        measured = run_timed(command, cwd, env, log)
        seconds, peak = seconds + measured.seconds, max(peak, measured.peak_rss_mb)
        if measured.exit_code != 0:
            return Measured(seconds, peak, measured.exit_code, log)
    return Measured(seconds, peak, 0, log)


def run_checked(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    """An untimed helper command (set-up, status); its output, or an error with the output."""
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout
