"""Running one contender's commands as child processes: wall seconds and peak RSS."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_rss_mb: float
    exit_code: int
    log: Path


def run_timed(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> Measured:
    """Run one command to completion through bench.peak_rss, a fresh small launcher: its wall
    seconds and the peak resident set of the command (or of the largest descendant it waited for)."""
    figures = log.with_suffix(".measure.json")
    with open(log, "ab") as out:
        out.write(("$ " + " ".join(command) + "\n").encode())
        out.flush()
        launcher = [sys.executable, "-m", "bench.peak_rss", str(figures), *command]
        exit_code = subprocess.run(launcher, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
    measured = json.loads(figures.read_text())
    figures.unlink()
    return Measured(measured["seconds"], measured["peak_rss_mb"], exit_code, log)


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
