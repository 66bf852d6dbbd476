"""Ctrl-C and SIGTERM held while the ledger is written: a write is never abandoned half-way."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def signals_held():
    """Ctrl-C and SIGTERM wait until the write is done: DuckDB would abandon it half-way ("Query
    interrupted"). They are noted meanwhile, then raised again once the previous handlers are
    back, as if they had come right after. (Blocking them would not do: the kernel then hands
    them to one of DuckDB's threads, and Python runs the handler in the main thread all the same.)"""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return
    noted: list[int] = []
    previous = {held: signal.signal(held, lambda signum, frame: noted.append(signum)) for held in HELD_SIGNALS}
    try:
        yield
    finally:
        for held, handler in previous.items():
            signal.signal(held, handler if handler is not None else signal.SIG_DFL)
        if noted:
            signal.raise_signal(noted[0])
