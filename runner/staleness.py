"""Why a loaded partition is no longer current: the rules that find a reason (a Staleness, apart
from how its last run ended, as Dagster keeps a partition's status and its staleness apart), and the
checks of what it was loaded from, or into, against what is there now."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Protocol

from runner.artifacts import node_name
from runner.content import differs
from runner.fingerprints import Unreadable
from runner.holdings import Holdings
from runner.ledger import PartitionRun
from runner.seeds import changed_seed
from runner.state_table import Staleness

# A partition's fingerprint now when its file is there but still being written (held open for
# writing): not yet a file to load, and it matches no recorded file.
STILL_ARRIVING = "still being written"
# A partition's recorded file fingerprint when the file changed after the run that loaded it began:
# what was loaded is unknown, so it matches no file.
CHANGED_AFTER_THE_RUN = "changed after the run"

Why = tuple[Staleness, str]  # a reason and its message


def warehouse_difference(day: date, latest: list[PartitionRun], holdings: Holdings | None) -> Why | None:
    """Why the warehouse does not hold what the partition's last run loaded, if it does not: the
    first model (in node order) whose rows, then content, differ."""
    if holdings is None or not holdings.checked:
        return None
    if holdings.gone:
        return Staleness.WAREHOUSE_GONE, holdings.gone
    for run in sorted(latest, key=lambda run: run.unique_id):
        name = node_name(run.unique_id)
        if run.resource_type == "model" and name in holdings.models and run.rows_loaded is not None:
            held = holdings.rows_of(name, day)
            if held != run.rows_loaded:
                return Staleness.WAREHOUSE_ROWS_DIFFER, (
                    f"warehouse has {held} row{'' if held == 1 else 's'} of {name}, {run.rows_loaded} "
                    f"{'was' if run.rows_loaded == 1 else 'were'} loaded")
            if differs(run.content_fingerprint, holdings.content_of(name, day)):
                return Staleness.WAREHOUSE_CONTENT_DIFFERS, f"warehouse rows of {name} differ from what was loaded"
    return None


def code_change(latest: list[PartitionRun], code_now: dict[str, str] | None) -> str | None:
    """The first model whose compiled SQL differs from the SQL that loaded the partition."""
    for run in latest:
        name = node_name(run.unique_id)
        if code_now and run.code_fingerprint and name in code_now and code_now[name] != run.code_fingerprint:
            return f"code of {name} changed since it was loaded"
    return None


def seed_change(latest: list[PartitionRun], seeds_now: dict[str, str] | None) -> str | None:
    """The first seed whose content differs from the one the partition was built with."""
    recorded = next((run.seeds_fingerprint for run in latest if run.seeds_fingerprint), None)
    seed = changed_seed(recorded, seeds_now or {})
    return f"seed {seed} changed since it was loaded" if seed else None


class Loaded(Protocol):
    """A partition whose last run loaded it, as the rules below see it (states.Partition)."""

    fingerprint_now: str | None  # its file's now
    code_now: dict[str, str] | None
    seeds_now: dict[str, str] | None

    @property
    def latest(self) -> list[PartitionRun]: ...  # its last invocation's rows
    @property
    def recorded(self) -> str | None: ...  # its file's fingerprint as that invocation loaded it
    @property
    def warehouse(self) -> Why | None: ...  # warehouse_difference


# In order: the first whose test holds says why the partition is stale. They follow the rules of its
# last run's outcome in states.RULES, and may count on those having failed (it did load).
STALE_RULES: tuple[tuple[str, Callable[[Loaded], object], Callable[[Loaded], Why]], ...] = (
    ("stale: the warehouse differs", lambda p: p.warehouse, lambda p: p.warehouse),
    # A load would fail on it: its fingerprint says why.
    ("stale: file unreadable", lambda p: isinstance(p.fingerprint_now, Unreadable),
     lambda p: (Staleness.FILE_UNREADABLE, str(p.fingerprint_now))),
    ("stale: file gone", lambda p: p.fingerprint_now is None,
     lambda p: (Staleness.FILE_GONE, "source file is gone since it was loaded (its rows are kept)")),
    ("stale: file being written", lambda p: p.fingerprint_now == STILL_ARRIVING,
     lambda p: (Staleness.FILE_BEING_WRITTEN, "source file is being written again since it was loaded")),
    ("stale: file changed during the run", lambda p: p.recorded == CHANGED_AFTER_THE_RUN,
     lambda p: (Staleness.FILE_CHANGED_DURING_RUN, "source file changed after the run that loaded it started")),
    ("stale: file changed", lambda p: p.recorded != p.fingerprint_now,
     lambda p: (Staleness.FILE_CHANGED, "source file changed since it was loaded")),
    ("stale: code changed", lambda p: code_change(p.latest, p.code_now),
     lambda p: (Staleness.CODE_CHANGED, code_change(p.latest, p.code_now))),
    ("stale: seeds changed", lambda p: seed_change(p.latest, p.seeds_now),
     lambda p: (Staleness.SEEDS_CHANGED, seed_change(p.latest, p.seeds_now))),
)
