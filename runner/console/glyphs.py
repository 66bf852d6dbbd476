"""How each partition state looks: a glyph and a colour, so a state never relies on colour alone.

Keyed by state name. It lists states that runner/states.py may not produce yet (running, awaiting,
skipped, materialized with warnings): they render as soon as they appear. Two are the console's
own: `queued` (a backfill launched here will load it) and `skipped` (a model that did not run).
"""

from __future__ import annotations

from dataclasses import dataclass

from runner import planning
from runner.states import STATES, PartitionStatus

WARNINGS = "warnings"  # a materialized partition whose status carries warnings
QUEUED = "queued"  # in a backfill launched from the console, after the invocation under way


@dataclass(frozen=True)
class Look:
    glyph: str
    colour: str
    label: str


LOOKS = {
    "materialized": Look("✓", "#2da44e", "materialized"),
    WARNINGS: Look("!", "#7d9a1e", "materialized with warnings"),
    "failed": Look("✕", "#cf222e", "failed"),
    "stale": Look("~", "#d4a72c", "stale"),
    "missing": Look("·", "#d0d7de", "missing"),
    "running": Look("↻", "#0969da", "running"),
    "awaiting": Look("_", "#8250df", "awaiting"),  # its file has not arrived (the terminal's glyph too)
    "late": Look("L", "#bf3989", "late"),  # awaiting past its deadline (the terminal's glyph too)
    QUEUED: Look("…", "#54aeff", "queued"),
    "skipped": Look("–", "#8c959f", "skipped"),
}
UNKNOWN = Look("?", "#6e7781", "unknown")
# What a backfill can select (`--only`), as the CLI has it.
SELECTABLE = tuple(planning.SELECTABLE)


def look(state: str) -> Look:
    return LOOKS.get(state) or Look(UNKNOWN.glyph, UNKNOWN.colour, state)


def display_state(status: PartitionStatus, skipped: bool = False) -> str:
    """The state to draw. A partition being loaded right now is `running` (before states.py has
    that state, it says failed with "loading now"); a model that only did not run because an
    upstream node failed is `skipped`; a materialized partition with warnings gets its own mark."""
    if status.state == "running" or (status.state == "failed" and (status.message or "").startswith("loading now")):
        return "running"
    if skipped and status.state == "failed":
        return "skipped"
    if status.state == "materialized" and getattr(status, "warnings", None):
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
