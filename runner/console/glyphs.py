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


def _luminance(colour: str) -> float:
    """WCAG relative luminance of a #rrggbb colour."""
    def channel(value: int) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(int(colour[i:i + 2], 16)) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(one: str, other: str) -> float:
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_on(colour: str) -> str:
    """Black or white, whichever reads better on the colour (either passes WCAG AA's 4.5:1)."""
    return "#000" if contrast(colour, "#000000") >= contrast(colour, "#ffffff") else "#fff"


def ink(colour: str, background: str = "#ffffff") -> str:
    """The colour darkened until it reads as text on the background (4.5:1): a glyph in the state's
    own hue, on the page."""
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    for step in range(21):
        scale = 1 - step / 20
        found = f"#{round(red * scale):02x}{round(green * scale):02x}{round(blue * scale):02x}"
        if contrast(found, background) >= 4.5:
            return found
    return "#000000"


def stylesheet() -> str:
    """The colours of each state, from the one table (the page's CSS uses these classes): --c the
    state's own, --fg text on it, --ink the state's hue as text on the page."""
    rules = [f".s-{state}{{--c:{item.colour};--fg:{text_on(item.colour)};--ink:{ink(item.colour)}}}" for state, item in LOOKS.items()]
    return "\n".join(rules)
