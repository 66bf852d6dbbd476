"""A backfill's options as the console's form sends them, checked as the CLI checks its own (the
load settings by the very types of its options: runner/options.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import click

from runner.backfills import LoadSettings
from runner.options import SETTINGS, load_setting, megabytes_option
from runner.partitions import parse_partition_date
from runner.planning import DEFAULT_SELECTION, parse_selection


class OptionsError(ValueError):
    """A launch request's options are not valid: the message says which and why, as the CLI would."""



@dataclass(frozen=True)
class Options:
    """`runner backfill` options, checked as the CLI checks them (the load settings by the very
    types of its options: runner/options.py)."""

    start: date
    end: date
    only: tuple[str, ...]
    chunk_size: int = SETTINGS["chunk_size"][2]
    chunk_mb: float = SETTINGS["chunk_mb"][2]
    retries: int = SETTINGS["retries"][2]

    @classmethod
    def parse(cls, body: object) -> Options:
        if not isinstance(body, dict):
            raise OptionsError("the request is not a JSON object")
        try:
            start = parse_partition_date(_text(body, "start"))
            end = parse_partition_date(_text(body, "end"))
            only = parse_selection(_text(body, "only", ",".join(DEFAULT_SELECTION)))
        except ValueError as error:
            raise OptionsError(str(error)) from None
        if start > end:
            raise OptionsError(f"start {start} is after end {end}")
        try:
            settings = {name: load_setting(name, body.get(name)) for name in SETTINGS}
        except click.BadParameter as error:
            raise OptionsError(error.format_message()) from None
        return cls(start, end, tuple(sorted(only)), **settings)

    @property
    def settings(self) -> LoadSettings:
        return LoadSettings(self.chunk_size, megabytes_option(None, None, self.chunk_mb), self.retries)

    def arguments(self) -> list[str]:
        return ["backfill", "--start", self.start.isoformat(), "--end", self.end.isoformat(),
                "--only", ",".join(self.only), "--chunk-size", str(self.chunk_size), "--chunk-mb", str(self.chunk_mb),
                "--retries", str(self.retries)]

    def as_dict(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "only": list(self.only),
                "chunk_size": self.chunk_size, "chunk_mb": self.chunk_mb, "retries": self.retries}


def _text(body: dict, name: str, default: str | None = None) -> str:
    value = body.get(name, default)
    if not isinstance(value, str):
        raise ValueError(f"{name} is missing" if value is None else f"{name} {value!r} is not text")
    return value
