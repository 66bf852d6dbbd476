"""When a daily file has arrived whole: the watcher's rule, apart from where its events come from.

A file is complete when it was renamed into place (its one event is its creation, it has bytes, and
nobody holds it open for writing), or when its size and modification time have not changed for the
settle interval and nobody holds it open for writing. A file still being written is never handed
out half-way: any change sends it back to waiting."""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Signature = tuple[int, int, int]  # size, modification time (ns), inode: any write or replacement changes one


def signature(path: Path) -> Signature | None:
    """The file's size, mtime and inode; None when no regular file is there."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return (found.st_size, found.st_mtime_ns, found.st_ino) if stat.S_ISREG(found.st_mode) else None


def held_for_writing(path: Path) -> bool | None:
    """Whether some process has the file open for writing. Linux refuses a read lease on such a file
    (fcntl F_SETLEASE). None where this cannot be told: another system, another user's file, a file
    system without leases; the settle interval alone decides then."""
    lease = getattr(fcntl, "F_SETLEASE", None)
    if lease is None:
        return None
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        fcntl.fcntl(descriptor, lease, fcntl.F_RDLCK)
    except OSError as error:
        return True if error.errno == errno.EAGAIN else None
    else:
        fcntl.fcntl(descriptor, lease, fcntl.F_UNLCK)
        return False
    finally:
        os.close(descriptor)


@dataclass(frozen=True)
class Waiting:
    signature: Signature
    since: float  # when the file was first seen as it is now
    renamed: bool  # arrived by a rename: complete at once unless someone is still writing it


class Arrivals:
    """The daily files seen changing and not yet complete."""

    def __init__(self, settle: float, clock: Callable[[], float] = time.monotonic,
                 look: Callable[[Path], Signature | None] = signature,
                 held: Callable[[Path], bool | None] = held_for_writing):
        self.settle, self.clock, self.look, self.held = settle, clock, look, held
        self._waiting: dict[Path, Waiting] = {}

    def saw(self, path: Path, renamed: bool) -> None:
        """An event for path: created or renamed into place (renamed=True), or written."""
        found = self.look(path)
        if found is None:
            self._waiting.pop(path, None)
        else:
            self._waiting[path] = Waiting(found, self.clock(), renamed)

    def forget(self, path: Path) -> None:
        self._waiting.pop(path, None)

    @property
    def waiting(self) -> list[Path]:
        return sorted(self._waiting)

    def complete(self) -> list[Path]:
        """The files complete now, in order; they are no longer waited for."""
        now, done = self.clock(), []
        for path, waiting in list(self._waiting.items()):
            found = self.look(path)
            if found is None:
                del self._waiting[path]
            elif found != waiting.signature:  # still being written: wait again from now
                self._waiting[path] = Waiting(found, now, False)
            elif (waiting.renamed and found[0] > 0) or now - waiting.since >= self.settle:
                if self.held(path) is not True:
                    done.append(path)
                    del self._waiting[path]
        return sorted(done)


def still_arriving(paths: list[Path], settle: float, clock: Callable[[], float] = time.time,
                   sleep: Callable[[float], None] = time.sleep) -> set[Path]:
    """The watcher's rule for a command that loads once (backfill, run): the files among `paths`
    that are not complete yet. A file held open for writing is arriving. One written within the
    last `settle` seconds (or dated in the future, where the clock cannot tell) is looked at again
    once `settle` has passed since it was seen: changed or held then, it is arriving. At most one
    wait, for all the files together."""
    seen = {path: signature(path) for path in paths}
    arriving = {path for path, found in seen.items() if found is not None and held_for_writing(path) is True}
    now = clock()
    recent = {path: found for path, found in seen.items()
              if found is not None and path not in arriving and found[1] / 1e9 > now - settle}
    if recent:
        newest = max(found[1] / 1e9 for found in recent.values())
        sleep(min(settle, max(0.0, newest + settle - now)))
        arriving |= {path for path, found in recent.items() if signature(path) != found or held_for_writing(path) is True}
    return arriving
