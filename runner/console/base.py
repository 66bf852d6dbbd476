"""What every route of the console shares: the console's state (its project, token, backfills, and
the change cursor), the headers of every response, and how a bad value or a refusal is answered."""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import time
from datetime import date

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from runner.console import history, views
from runner.console.glyphs import known_states
from runner.console.jobs import Backfills
from runner.dbt import end_of_command
from runner.partitions import date_range, parse_partition_date
from runner.project import Project

TOKEN_HEADER = "X-Console-Token"
CURSOR_HEADER = "X-Console-Cursor"
MAX_DAYS = 3660  # ten years a page: the range is the user's, and every day costs a file hash
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class BadRequest(Exception):
    """A user value is not valid: a 400 with the CLI's own message."""


class Console:
    """The state of one console process: its project, its token, its backfills."""

    def __init__(self, project: Project, allowed_hosts: list[str]):
        self.project = project
        self.allowed_hosts = allowed_hosts
        self.token = secrets.token_urlsafe(32)
        self.backfills = Backfills(project)
        self.logs = history.LogIndex(project.artifacts_dir)
        self.name = views.project_name(project)
        # planning.collect may start dbt (a new hand run, changed code): one at a time in a process.
        self._reading = threading.Lock()
        # What every other process changes when it loads or records: DuckDB writes a file's .wal
        # first, and a new daily file changes its folder.
        files = (project.ledger_path, project.warehouse_path)
        self._watched = [*files, *(path.with_name(path.name + ".wal") for path in files), project.source_dir,
                         project.hand_run_results]

    def cursor(self) -> str:
        """A short token that changes whenever what the pages show may have: the size and mtime of
        the watched files, the console's backfill (each line it prints, its exit), and the minute
        (a file late by now, a runner gone without a word). A few stat calls: no DuckDB, no dbt."""
        parts = []
        for path in self._watched:
            try:
                stat = os.stat(path)
                parts.append(f"{stat.st_size}.{stat.st_mtime_ns}")
            except OSError:
                parts.append("-")
        job = self.backfills.current
        parts += [job.cursor if job else "-", str(int(time.time() // 60))]
        return hashlib.blake2s("|".join(parts).encode(), digest_size=8).hexdigest()

    @property
    def root(self) -> str:
        return f"{self.project.project_dir}/"

    def read(self, build, *args):
        with self._reading:
            try:
                return build(*args)
            finally:
                end_of_command()  # never keep the warehouse's lock: the backfill process needs it

    def dates(self, request: Request) -> list[date]:
        start, end = self.project.defined_partitions().bounds()
        start = _date(request.query_params.get("start"), start, "start")
        end = _date(request.query_params.get("end"), end, "end")
        if start > end:
            raise BadRequest(f"start {start} is after end {end}")
        if (end - start).days >= MAX_DAYS:
            raise BadRequest(f"{start} to {end} is more than {MAX_DAYS} days: choose a shorter range")
        return date_range(start, end)

    def shown_states(self, request: Request) -> set[str] | None:
        chosen = set(request.query_params.getlist("state"))
        unknown = chosen - known_states()
        if unknown:
            raise BadRequest(f"{', '.join(sorted(unknown))} is not a state: choose from {', '.join(sorted(known_states()))}")
        return chosen or None


def _date(text: str | None, default: date, name: str) -> date:
    if not text:
        return default
    try:
        return parse_partition_date(text)
    except ValueError as error:
        raise BadRequest(f"{name}: {error}") from None


def _page(html: str, status: int = 200, cursor: str | None = None) -> HTMLResponse:
    headers = {**SECURITY_HEADERS, CURSOR_HEADER: cursor} if cursor else SECURITY_HEADERS
    return HTMLResponse(html, status, headers=headers)


def _refused(message: str) -> JSONResponse:
    """The page's own requests answer a refusal in the body, not with a 4xx status, which the
    browser would log as an error: the request was understood, and the answer is no."""
    return JSONResponse({"error": message}, headers=SECURITY_HEADERS)
