"""A load's progress as it runs: a bar with counts and an ETA on a terminal, else a line per
partition as each invocation ends."""

from __future__ import annotations

import click

from runner.loading import Outcome


def outcome_lines(outcome: Outcome) -> list[str]:
    """One line per partition of an invocation."""
    lines = []
    for day in outcome.dates:
        if outcome.ok:
            rows = outcome.rows.get(day)
            lines.append(f"{day}  loaded  {rows if rows is not None else '?'} rows  ({outcome.seconds:.1f}s)")
        else:
            lines.append(f"{day}  failed  {outcome.message}")
    return lines


class Progress:
    """A progress bar with counts and ETA on a terminal; a line per partition otherwise."""

    def __init__(self, total: int, enabled: bool, lines: bool):
        self.total, self.enabled, self.lines = total, enabled, lines
        self.loaded = self.failed = 0
        self._bar = None

    def __enter__(self):
        if self.enabled:
            self._bar = click.progressbar(length=self.total, label="loading", show_eta=True, show_pos=True,
                                          item_show_func=lambda _: f"{self.loaded} loaded, {self.failed} failed")
            self._bar.__enter__()
        return self

    def advance(self, outcome: Outcome) -> None:
        if outcome.ok:
            self.loaded += len(outcome.dates)
        else:
            self.failed += len(outcome.dates)
        if self._bar is not None:
            self._bar.update(len(outcome.dates), outcome)
            if not outcome.ok:  # failures stay visible above the bar
                click.echo("\r\033[K" + "\n".join(outcome_lines(outcome)), err=True)
        elif self.lines:
            for line in outcome_lines(outcome):
                click.echo(line)

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.__exit__(*exc)
        return False
