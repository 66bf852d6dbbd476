"""The `runner` command's entry point: SIGTERM is a Ctrl-C from the first moment, so a scheduler's
stop during start-up ends with one line and exit 130, not a silent 143."""

from __future__ import annotations

import signal
import sys


def interrupt(signum, frame):
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, interrupt)
    try:
        from runner.cli import main as cli_main  # importing dbt's neighbours takes a while
    except KeyboardInterrupt:
        print("runner: interrupted while starting", file=sys.stderr)
        sys.exit(130)
    cli_main()
