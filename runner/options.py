"""The command line's options and argument types, shared by its commands; a load's settings are
checked by the same types in the console's form (load_setting)."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import click

from runner.backfills import DEFAULT_CHUNK_MB, DEFAULT_CHUNK_SIZE, DEFAULT_RETRIES
from runner.partitions import parse_partition_date
from runner.planning import parse_selection

LATEST = "latest"
# A load's settings as the options take them (the defaults: runner/backfills.py); the console's
# form is checked by the same types (load_setting), so both say the same of a bad value.
SETTINGS = {
    "chunk_size": ("--chunk-size", click.IntRange(min=1), DEFAULT_CHUNK_SIZE),
    "chunk_mb": ("--chunk-mb", click.FloatRange(min=0, min_open=True), DEFAULT_CHUNK_MB),
    "retries": ("--retries", click.IntRange(min=0), DEFAULT_RETRIES),
}


class PartitionDate(click.ParamType):
    """A partition key on the command line: a real date written YYYY-MM-DD (or, where allowed, `latest`)."""

    name = "DATE"

    def __init__(self, latest: bool = False):
        self.latest = latest

    def convert(self, value, param, ctx):
        if isinstance(value, date) or (self.latest and value == LATEST):
            return value
        try:
            return parse_partition_date(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


DATE = PartitionDate()


def megabytes_option(ctx, param, value) -> int:
    """A positive, finite number of megabytes (MiB), as bytes."""
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number of megabytes", ctx, param)
    return max(1, int(value * 2**20))


def load_setting(name: str, value) -> int | float:
    """One of a load's settings (chunk_size, chunk_mb, retries) given as text or a number (None or
    "": its default), checked as its option is on the command line: click.BadParameter, whose
    format_message() is the line the command line prints after "Error: "."""
    option, kind, default = SETTINGS[name]
    value = default if value is None or value == "" else value
    try:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            kind.fail(f"{value!r} is not a number")
        converted = kind.convert(str(value), None, None)
        if name == "chunk_mb":
            megabytes_option(None, None, converted)  # finite
        return converted
    except click.BadParameter as error:
        error.param_hint = f"'{option}'"
        raise


def selection_option(ctx, param, value):
    try:
        return parse_selection(value)
    except ValueError as error:
        raise click.BadParameter(str(error), ctx, param) from None


def source_dir_option(command):
    return click.option(
        "--source-dir", type=click.Path(file_okay=False), default=None,
        help="Folder of the daily files (default: the source_dir var of dbt_project.yml).",
    )(command)


def range_options(command):
    """--start/--end, inclusive, defaulting to the partitions defined in dbt_project.yml."""
    command = click.option("--end", type=DATE, help="Last partition, included (default: partitions_end_date, else the last "
                           "complete day: yesterday, moved by partitions_end_offset).")(command)
    return click.option("--start", type=DATE, help="First partition, included (default: the defined start).")(command)


def in_an_existing_folder(ctx, param, value):
    """A file to write whose folder exists: a mistyped path must not make folders (at / even)."""
    if value is not None and not Path(value).parent.is_dir():
        raise click.BadParameter(f"{value}: there is no folder {Path(value).parent}", ctx, param)
    return value


def retries_option(command):
    return click.option("--retries", type=SETTINGS["retries"][1], default=DEFAULT_RETRIES, show_default=True,
                        help="Tries again, with backoff, after a transient failure (a locked warehouse, an I/O error).")(command)


def chunk_options(command):
    command = click.option("--chunk-mb", "chunk_bytes", type=SETTINGS["chunk_mb"][1],
                           default=DEFAULT_CHUNK_MB, show_default=True, callback=megabytes_option,
                           help="Most megabytes of daily files per dbt invocation: bounds memory when days are large.")(command)
    return click.option("--chunk-size", type=SETTINGS["chunk_size"][1], default=DEFAULT_CHUNK_SIZE, show_default=True,
                        help="Most partitions per dbt invocation; 1 builds each partition on its own.")(command)


def json_lines_option(command):
    return click.option("--json-lines", is_flag=True,
                        help="Print each event as it happens, one JSON object per line: the plan, each dbt invocation "
                             "as it starts, each partition's outcome, the summary.")(command)


def output_options(command):
    command = click.option("--json", "as_json", is_flag=True, help="Print one JSON document at the end, nothing else.")(command)
    return click.option("--quiet", is_flag=True, help="Print only the summary.")(command)


def settle_option(command):
    return click.option("--settle", type=click.FloatRange(min=0), default=2.0, show_default=True,
                        help="Seconds a file written just now must stay unchanged before it loads; a file still being "
                             "written (held open) is left for the next run.")(command)


def started_by_option(command):
    """Who starts a backfill, for its record (runner/backfill_records.py): the console launches
    `runner backfill --started-by console`; hidden, as no one else needs it."""
    return click.option("--started-by", type=click.Choice(["cli", "console"]), default="cli", hidden=True)(command)
