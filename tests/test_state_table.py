"""The one table of states (runner/state_table.py): every state has one look, told apart without
colour on the terminal and on the page, and the lists the planner and the summaries use are its own."""

from __future__ import annotations

from runner.state_table import LOOKS, SELECTABLE, STATES, WAITING, State, counts_line, look


def test_every_state_has_one_look_told_apart_without_colour():
    assert set(LOOKS) == set(State)
    for side in ("cell", "glyph"):
        marks = [getattr(item, side) for item in LOOKS.values()]
        assert len(set(marks)) == len(marks), side
    assert look("no such state").label == "no such state"  # shown, with the unknown glyph


def test_the_planners_and_the_summaries_lists_are_read_off_the_table():
    assert STATES == ("materialized", "failed", "stale", "missing", "running", "awaiting", "late")
    assert SELECTABLE == ("materialized", "failed", "stale", "missing")
    assert WAITING == ("awaiting", "late")
    assert not set(WAITING) & set(SELECTABLE)
    assert counts_line(["failed", "late", "failed"]) == "0 materialized, 2 failed, 0 stale, 0 missing, 1 late"
