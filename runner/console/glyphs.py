"""How each partition state looks on the page: the one table of runner/state_table.py, and the
few marks only the page draws (`queued`, `skipped`, materialized with warnings)."""

from __future__ import annotations

from runner.state_table import LOOKS, SELECTABLE, STATES, Look, State, look
from runner.states import PartitionStatus

__all__ = ["LOOKS", "SELECTABLE", "Look", "look", "display_state", "legend_states", "known_states", "stylesheet"]
WARNINGS, QUEUED = State.WARNINGS, State.QUEUED


def display_state(status: PartitionStatus, skipped: bool = False) -> str:
    """The state to draw: a model that only did not run because an upstream node failed is
    `skipped`; a materialized partition with warnings gets its own mark."""
    if skipped and status.state == State.FAILED:
        return State.SKIPPED
    if status.state == State.MATERIALIZED and status.warnings:
        return WARNINGS
    return status.state


def legend_states(present: set[str]) -> list[str]:
    """Every state the project has, then any other state that appears, in the table's order."""
    shown = [state for state in LOOKS if state in STATES or state in present]
    return shown + sorted(present - set(shown))


def known_states() -> set[str]:
    return set(LOOKS) | set(STATES)


def stylesheet() -> str:
    """The colour of each state, from the one table (the page's CSS uses these classes)."""
    rules = [f".s-{state}{{--c:{item.colour}}}" for state, item in LOOKS.items()]
    return "\n".join(rules)
