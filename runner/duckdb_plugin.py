"""A dbt-duckdb plugin (profiles.yml `plugins:`): SQL functions the project's macros need on DuckDB.

`daily_file_header(path)` is the first line of a daily file, read with a plain open() and one
readline. DuckDB's own readers take milliseconds per file even with `limit 1` (they set up a scan
of the whole file), and a year-long chunk checks 365 headers before it reads a row.
"""

from __future__ import annotations

import os
import stat

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb.func import FunctionNullHandling

# A header longer than this is not one: enough to name the columns found, never a whole line of data.
MAX_HEADER_BYTES = 4096


class DailyFileError(ValueError):
    """A partition's path cannot be read as a daily file."""


def daily_file_header(path: str) -> str | None:
    """The file's first line, decoded as UTF-8 (undecodable bytes as U+FFFD, so the macro can say
    which encoding it is not); None for a 0-byte file. A path that is not a regular file (a folder,
    a FIFO, a device) is refused without opening it: opening a FIFO blocks until a writer comes."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        raise DailyFileError(f"no such file: {path}") from None
    if not stat.S_ISREG(found.st_mode):
        raise DailyFileError(f"not a regular file: {path}")
    if found.st_size == 0:
        return None
    with open(path, "rb") as handle:
        line = handle.readline(MAX_HEADER_BYTES)
    return line.decode("utf-8", errors="replace").rstrip("\r\n")


class Plugin(BasePlugin):
    def configure_connection(self, conn) -> None:
        conn.create_function("daily_file_header", daily_file_header, ["VARCHAR"], "VARCHAR",
                             null_handling=FunctionNullHandling.SPECIAL, side_effects=True)
