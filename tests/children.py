"""Runner processes for the tests, with a window made deterministic: each a script for `python -c`."""

# A runner in a process of its own whose load waits, in flight, until the test says go (a file
# appears): after dbt built the partition and while it holds the warehouse (count_rows), or before
# dbt runs (build_partitions); the ledger has the in-flight marker either way. Arguments: the ready
# file, the go file, where to wait, then the runner's own. The window made deterministic, without
# sleeps in the test.
PAUSED_RUNNER = """
import importlib, pathlib, sys, time
from runner.cli import main
ready, go = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
# count_rows: after the build, the warehouse held; build_partitions: before it (methods of Dbt);
# or any method as module:Class.method
module, _, where = sys.argv[3].rpartition(":")
owner_name, _, name = where.rpartition(".")
owner = getattr(importlib.import_module(module or "runner.dbt"), owner_name or "Dbt")
method = getattr(owner, name)
def paused(self, *args):
    ready.touch()
    while not go.exists():
        time.sleep(0.02)
    return method(self, *args)
setattr(owner, name, paused)
sys.argv = ["runner", *sys.argv[4:]]
main()
"""
