"""Runner processes for the tests, with a window made deterministic: each a script for `python -c`."""

# A runner in a process of its own whose load waits, in flight, until the test says go (a file
# appears): after dbt built the partition and while it holds the warehouse (measure), or before
# dbt runs (build_partitions); the ledger has the in-flight marker either way. Arguments: the ready
# file, the go file, where to wait, then the runner's own. The window made deterministic, without
# sleeps in the test.
PAUSED_RUNNER = """
import importlib, pathlib, sys, time
from runner.cli import main
ready, go = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
# build_partitions: before dbt runs (a method of Dbt); runner.warehouse:measure: after the
# build, the warehouse held; or any method or function as module:Class.method or module:function
module, _, where = sys.argv[3].rpartition(":")
owner_name, _, name = where.rpartition(".")
owner = importlib.import_module(module or "runner.dbt")
owner = getattr(owner, owner_name or "Dbt") if owner_name or not module else owner  # a method, or a module's function
method = getattr(owner, name)
def paused(*args):
    ready.touch()
    while not go.exists():
        time.sleep(0.02)
    return method(*args)
setattr(owner, name, paused)
sys.argv = ["runner", *sys.argv[4:]]
main()
"""
