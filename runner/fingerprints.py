"""Fingerprints: of a source file's bytes (stale data) and of a model's compiled SQL (stale code)."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import stat
from datetime import UTC, datetime
from pathlib import Path

from runner.daily_files import DailyFiles

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A chunk lists several partitions where a single run lists one; collapse the repeats.
REPEATED_DAY = re.compile(r"(\(?date 'D'\)?)(\s*,\s*\1)+")
REPEATED_FILE = re.compile(r"('<file>')(\s*,\s*'<file>')+")
# The daily files' reader marks what is data (the files, their columns' order) in the SQL it writes,
# and writes one read per column order: one fingerprint for any files in any order.
DATA = re.compile(r"/\* data: \*/.*?/\* :data \*/", re.DOTALL)
REPEATED_READ = re.compile(r"(\(select .+?\))(\s*union all\s*\1)+", re.DOTALL)
COMMENT = re.compile(r"--[^\n]*")


class Unreadable(str):
    """The fingerprint of a file that is there but cannot be read (a symlink loop, no permission):
    the cause, in one line. It matches no file's fingerprint, so the partition is never current."""

    @classmethod
    def of(cls, path: Path, error: OSError) -> Unreadable:
        return cls(f"cannot read {path}: {error.strerror or error}")


def file_fingerprint(path: Path) -> str | None:
    """SHA-256 of the file's bytes; None when there is no regular file there; Unreadable (why) when
    one is there that cannot be read. A FIFO or a device is never opened: opening a FIFO blocks
    until something writes to it."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    except OSError as error:  # ELOOP, EACCES, EIO: the partition fails naming it, never the command
        return Unreadable.of(path, error)


def modified_after(path: Path, moment: datetime) -> bool:
    """Whether the file was written after `moment` (UTC): what a run that began then read is unknown.
    A time in the future says nothing (a writer's clock ahead, a copy that kept its times): no."""
    try:
        modified = datetime.fromtimestamp(os.stat(path).st_mtime, UTC).replace(tzinfo=None)
    except OSError:
        return False
    return moment < modified <= datetime.now(UTC).replace(tzinfo=None)


@functools.lru_cache(maxsize=64)  # a chunk records the same compiled code for each of its partitions
def code_fingerprint(compiled_code: str | None, files: DailyFiles) -> str | None:
    """SHA-256 of compiled SQL with the partition dates and file locations taken out, so it
    changes when the code does and not from one partition or chunk to the next."""
    if not compiled_code:
        return None
    text = DATA.sub("<data>", compiled_code)
    # Where the files are (absolute from the runner, relative from a hand run) and comments are not code.
    text = files.path_in_sql.sub("'<file>'", COMMENT.sub("", text.replace(str(files.folder), "<source_dir>")))
    text = DATE.sub("D", text)
    text = REPEATED_READ.sub(r"\1", REPEATED_FILE.sub(r"\1", REPEATED_DAY.sub(r"\1", text)))
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()
