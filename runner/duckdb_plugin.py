"""A dbt-duckdb plugin (profiles.yml `plugins:`): SQL functions the project's macros need on DuckDB.

`daily_file_header(path)` is the first line of a daily file, read with a plain open() and one
readline. DuckDB's own readers take milliseconds per file even with `limit 1` (they set up a scan
of the whole file), and a year-long chunk checks 365 headers before it reads a row.
"""

from __future__ import annotations

import os
import re
import stat

import duckdb
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


# DuckDB's words for a warehouse another process holds, with the holder's PID.
LOCK_HELD = re.compile(r'Could not set lock on file "(?P<path>[^"]+)": Conflicting lock is held in .*?\(PID (?P<pid>\d+)\)')


def one_line_lock_errors() -> None:
    """On a warehouse another process holds, dbt-duckdb fails again while handling the failure (its
    rollback opens the connection anew), and dbt prints three tracebacks around the one line that
    matters. Say that line once, as a dbt error: which file, which process holds it, what to do."""
    from dbt.adapters.duckdb.environments import Environment
    from dbt_common.exceptions import DbtRuntimeError

    original = Environment.initialize_db.__func__
    if getattr(original, "one_line", False):  # dbt loads the plugin once per connection environment
        return

    def initialize_db(cls, *args, **kwargs):
        try:
            return original(cls, *args, **kwargs)
        except duckdb.IOException as error:
            held = LOCK_HELD.search(str(error))
            if held is None:
                raise
            raise DbtRuntimeError(f"Conflicting lock on the warehouse {held['path']}: held by PID {held['pid']} "
                                  "(a runner loading partitions?); try again once it is done") from None

    initialize_db.one_line = True
    Environment.initialize_db = classmethod(initialize_db)


one_line_lock_errors()
