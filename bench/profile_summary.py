"""Where a runner's time goes, from a py-spy profile of it (all threads: dbt runs nodes in a pool).

    py-spy record --rate 50 --format raw -o profile.txt -- .venv/bin/runner backfill ...
    python -m bench.profile_summary profile.txt --rate 50

Each sample of a busy thread is put in the first category whose marker is in its stack; samples of
threads waiting on a lock or a queue are left out, so the seconds add up to CPU time, not wall time.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

# (category, a frame marker), the first match wins: a node's DuckDB query before the node itself.
CATEGORIES = [
    ("dbt import and project parse", "Dbt.parse"),
    ("dbt seed", "Dbt.seed"),
    ("ledger reads and writes", "Ledger."),
    ("row counts and content fingerprints", "measure ("),
    ("nodes: DuckDB queries", "DuckDBCursorWrapper.execute"),
    ("nodes: compiling SQL (Jinja, contexts)", "Compiler.compile_node"),
    ("nodes: dbt events and logs", "fire_event"),
    ("nodes: materialization macros and the rest", "call_runner"),
    ("dbt invocation set-up (graph, cache, artifacts)", "Dbt.build_partitions"),
]
WAITING = ("acquire", "Condition.wait", "select (", "poll (")  # the frame a waiting thread is in
IDLE_THREADS = "Pool._handle_"  # the pool's bookkeeping threads, which only wait


def categorise(stack: str) -> str | None:
    frames = stack.split(";")
    if any(marker in frames[-1] for marker in WAITING) or IDLE_THREADS in stack:
        return None
    return next((name for name, marker in CATEGORIES if marker in stack), "other")


def summary(path: Path, rate: int) -> list[tuple[str, float]]:
    samples: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        category = categorise(stack)
        if category:
            samples[category] += int(count)
    return [(name, samples[name] / rate) for name in [*dict(CATEGORIES), "other"] if samples[name]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path, help="py-spy record --format raw output")
    parser.add_argument("--rate", type=int, default=100, help="the sampling rate given to py-spy (default 100)")
    args = parser.parse_args()
    rows = summary(args.profile, args.rate)
    total = sum(seconds for _, seconds in rows)
    for name, seconds in rows:
        print(f"{seconds:8.1f} s  {100 * seconds / total:5.1f}%  {name}")
    print(f"{total:8.1f} s  100.0%  busy in all")


if __name__ == "__main__":
    main()
