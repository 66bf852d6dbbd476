"""The state model: every state a partition can be shown in, why a stale one is stale, the status
that carries them, and everything that differs between the states, in one table: the terminal's
cell, the page's glyph and colour, whether a backfill can select it, whether it waits for a file.
The terminal, the page and the planner all read it; no list of states elsewhere. (Which state a
partition is in: runner/states.py decides, by its rules.)

Glyphs are distinct without colour, so a state never relies on colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class State(StrEnum):
    """A partition's state. A StrEnum: it is its name in JSON, in the ledger and in CSS classes."""

    MATERIALIZED = "materialized"
    FAILED = "failed"
    STALE = "stale"
    MISSING = "missing"
    RUNNING = "running"
    AWAITING = "awaiting"  # not loaded, and its file has not arrived (or is still being written)
    LATE = "late"  # awaiting past the project's deadline (partitions_late_after): an operator should look
    # Shown, never judged: the console's and the health bar's finer marks.
    WARNINGS = "warnings"  # materialized, with plausibility checks that warned
    QUEUED = "queued"  # in a backfill launched from the console, after the invocation under way
    SKIPPED = "skipped"  # a model that did not run because an upstream node failed


class Staleness(StrEnum):
    """Why a partition is stale; its name in JSON (`stale_reasons`)."""

    WAREHOUSE_GONE = "warehouse_gone"  # the warehouse file is gone, or is no DuckDB file
    WAREHOUSE_ROWS_DIFFER = "warehouse_rows_differ"  # a model holds more or fewer rows than were loaded
    WAREHOUSE_CONTENT_DIFFERS = "warehouse_content_differs"  # as many rows, other content (--verify)
    FILE_UNREADABLE = "file_unreadable"  # the file is there but cannot be read
    FILE_GONE = "file_gone"
    FILE_BEING_WRITTEN = "file_being_written"  # written again: held open, or changed within the settle time
    FILE_CHANGED_DURING_RUN = "file_changed_during_run"  # what the load read is unknown
    FILE_CHANGED = "file_changed"
    CODE_CHANGED = "code_changed"  # a model's compiled SQL
    SEEDS_CHANGED = "seeds_changed"


@dataclass(frozen=True)
class CheckWarning:
    """A plausibility check (a test with severity warn, or one rule of such a test of several) that
    found rows in the partition."""

    check: str
    rows: int | None
    message: str | None
    test: str  # the test the rule is one of; for a test of one rule, its name is the check too

    def as_dict(self) -> dict:
        return {"check": self.check, "test": self.test, "rows": self.rows, "message": self.message}


@dataclass(frozen=True)
class PartitionStatus:
    """A partition's state, why (the message, and for a stale one its reasons), and its last run."""

    partition_date: date
    state: str
    rows: int | None = None
    invocation_id: str | None = None
    last_run_at: datetime | None = None
    duration: float | None = None  # this partition's share of its invocation's time
    message: str | None = None
    warnings: tuple[CheckWarning, ...] = ()
    chunk_seconds: float | None = None  # the whole invocation's time ...
    chunk_partitions: int | None = None  # ... and how many partitions it loaded
    staleness: tuple[Staleness, ...] = ()  # why it is stale (the reason its message gives); else none

    def as_dict(self) -> dict:
        return {
            "partition_date": self.partition_date.isoformat(),
            "state": self.state,
            "rows": self.rows,
            "invocation_id": self.invocation_id,
            "last_run_at": self.last_run_at.isoformat(timespec="seconds") + "Z" if self.last_run_at else None,
            "duration_seconds": self.duration,
            "message": self.message,
            "warnings": [warning.as_dict() for warning in self.warnings],
            "chunk_seconds": self.chunk_seconds,
            "chunk_partitions": self.chunk_partitions,
            "stale_reasons": [str(reason) for reason in self.staleness],
        }


@dataclass(frozen=True)
class Look:
    cell: str  # the terminal's health bar
    cell_colour: str  # a click colour name
    glyph: str  # the page
    colour: str  # the page, as CSS
    label: str
    judged: bool = True  # a state `runner status` gives (else only a mark of the display)
    selectable: bool = False  # a backfill can load partitions in it (--only)
    counted: bool = False  # a summary counts it even at zero (the others only when there are some)
    waiting: bool = False  # no file to load yet: never planned, never a failure of the run


LOOKS: dict[State, Look] = {
    State.MATERIALIZED: Look("█", "green", "✓", "#2da44e", "materialized", selectable=True, counted=True),
    State.WARNINGS: Look("!", "green", "!", "#7d9a1e", "materialized with warnings", judged=False),
    State.FAILED: Look("X", "red", "✕", "#cf222e", "failed", selectable=True, counted=True),
    State.STALE: Look("~", "yellow", "~", "#d4a72c", "stale", selectable=True, counted=True),
    State.MISSING: Look("·", "white", "·", "#d0d7de", "missing", selectable=True, counted=True),
    State.RUNNING: Look(">", "cyan", "↻", "#0969da", "running"),
    State.AWAITING: Look("_", "blue", "_", "#8250df", "awaiting", waiting=True),
    State.LATE: Look("L", "magenta", "L", "#bf3989", "late", waiting=True),
    State.QUEUED: Look("…", "cyan", "…", "#54aeff", "queued", judged=False),
    State.SKIPPED: Look("–", "white", "–", "#8c959f", "skipped", judged=False),
}
UNKNOWN = Look("?", "magenta", "?", "#6e7781", "unknown", judged=False)

# Read off the table, in its order.
STATES = tuple(state for state, item in LOOKS.items() if item.judged)
SELECTABLE = tuple(state for state, item in LOOKS.items() if item.selectable)
WAITING = tuple(state for state, item in LOOKS.items() if item.waiting)


def counts_line(states: list[str]) -> str:
    """How many partitions are in each state, as every summary says it: `2 materialized, 1 failed,
    0 stale, 0 missing`, then running, awaiting and late only when there are some."""
    found = {state: sum(1 for each in states if each == state) for state in STATES}
    return ", ".join(f"{count} {state}" for state, count in found.items() if count or LOOKS[state].counted)


def look(state: str) -> Look:
    """How a state looks; one the table does not know keeps its name, with the unknown glyph."""
    try:
        return LOOKS[State(state)]
    except ValueError:
        return Look(UNKNOWN.cell, UNKNOWN.cell_colour, UNKNOWN.glyph, UNKNOWN.colour, state, judged=False)
