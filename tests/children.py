"""Runner processes for the tests, with a window made deterministic: each a script for `python -c`."""

# A runner in a process of its own whose load waits, in flight, until the test says go (a file
# appears): after dbt built the partition and while it holds the warehouse (count_rows), or before
# dbt runs (build_partitions); the ledger has the in-flight marker either way. Arguments: the ready
# file, the go file, where to wait, then the runner's own. The window made deterministic, without
# sleeps in the test.
PAUSED_RUNNER = """
import pathlib, sys, time
from runner import dbt
from runner.cli import main
ready, go = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
where = sys.argv[3]  # count_rows: after the build, the warehouse held; build_partitions: before it
method = getattr(dbt.Dbt, where)
def paused(self, *args):
    ready.touch()
    while not go.exists():
        time.sleep(0.02)
    return method(self, *args)
setattr(dbt.Dbt, where, paused)
sys.argv = ["runner", *sys.argv[4:]]
main()
"""
