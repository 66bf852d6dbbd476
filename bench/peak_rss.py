"""Run a command and write its wall seconds and peak RSS (MiB) as JSON to a file.

    python -m bench.peak_rss OUT.json COMMAND [ARG ...]

Linux counts a process's peak RSS from before its exec: a child forked by a harness that holds
hundreds of MB reports at least that much. This small, fresh process forks the command instead,
so the figure is the command's own (plus this launcher's few MB at most).
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(out: str, command: list[str]) -> int:
    began = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - began
    with open(out, "w") as handle:
        json.dump({"seconds": seconds, "peak_rss_mb": usage.ru_maxrss / 1024}, handle)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
