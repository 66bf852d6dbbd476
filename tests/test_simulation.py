"""Sixty simulated nights of unattended operation (bench/simulation.py), judged night by night by an
oracle that shares no code with the product; and proof that the oracle notices a broken rule."""

from __future__ import annotations

import pytest

from bench.simulation import Mismatch, Simulation, summary


def test_sixty_nights_of_daily_operation_stay_true(tmp_path):
    simulation = Simulation(tmp_path / "project", seed=1, days=60)
    nights = simulation.run()
    result = summary(nights, simulation.world)
    # Every kind of day and night the seed was chosen for happened, and every run night was judged.
    assert set(result["files"]) == {"on_time", "late", "early", "never", "corrected", "bad_then_fixed", "copying", "deleted"}
    assert set(result["outcomes"]) == {"run", "skipped", "killed"}
    assert result["checked"] == result["outcomes"]["run"]
    assert result["hand_runs"]
    # Red nights only for bad files (the oracle checked each exit code): some, not every night.
    assert 0 < result["red_nights"] < result["outcomes"]["run"]


def test_the_oracle_notices_a_file_read_while_still_being_copied(tmp_path, monkeypatch):
    """The simulation would pass whatever the product did if its oracle were blind: break the
    completeness rule (nobody ever holds a file for writing) and the copying day must be caught."""
    import runner.arrivals
    import runner.planning

    monkeypatch.setattr(runner.planning, "held_for_writing", lambda path: None)
    monkeypatch.setattr(runner.arrivals, "held_for_writing", lambda path: None)
    simulation = Simulation(tmp_path / "project", seed=1, days=3, stories=["on_time", "copying", "on_time"],
                            nights=["run", "run", "run"])
    with pytest.raises(Mismatch, match="^night 2 "):  # half its rows loaded, or a red night: either is caught
        simulation.run()
