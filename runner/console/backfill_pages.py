"""The console's Backfills pages: every backfill recorded, newest first (/backfills), and one with
its partitions and invocations (/backfills/<id>); a running one this console launched can be
cancelled from its page (a POST with the console's token), as Ctrl-C would stop it. Reads only."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from runner import backfill_records
from runner.backfill_records import BackfillRecord
from runner.console import pages
from runner.console.base import SECURITY_HEADERS, Console, _page, _refused
from runner.ledger import Ledger


def mine(console: Console, records: list[BackfillRecord]) -> str | None:
    """The id of the one of these records that is this console's backfill, running."""
    job = console.backfills.current
    return next((record.backfill_id for record in records if job is not None and job.running and record.running
                 and record.started_by == "console" and record.runner_pid == job.process.pid), None)


def listing(request: Request) -> Response:
    console: Console = request.app.state.console
    cursor = console.cursor()  # before reading: a change made while it reads moves it again
    records = console.read(backfill_records.read, Ledger(console.project.ledger_path))
    fragment = request.url.path.startswith("/fragments/")
    return _page(pages.backfills(records, console.token, fragment, cursor, mine(console, records)), cursor=cursor)


def one(request: Request) -> Response:
    console: Console = request.app.state.console
    cursor = console.cursor()
    page = console.read(backfill_records.page, Ledger(console.project.ledger_path), request.path_params["backfill_id"],
                        console.project.models.primary, lambda invocation: console.logs.log_file(invocation) is not None)
    if page is None:
        return _page(pages.error(404, "No such backfill."), status=404)
    fragment = request.url.path.endswith("/fragment")
    return _page(pages.backfill(page, console.token, fragment, cursor, mine(console, [page.record]),
                                console.project.project_dir), cursor=cursor)


async def cancel(request: Request) -> Response:
    """SIGTERM to the console's backfill process, which records it as interrupted."""
    console: Console = request.app.state.console
    records = backfill_records.read(Ledger(console.project.ledger_path), request.path_params["backfill_id"])
    if mine(console, records) is None:
        return _refused("Refused: only a running backfill launched from this console can be cancelled here")
    await run_in_threadpool(console.backfills.stop)
    return JSONResponse({"cancelled": records[0].backfill_id}, headers=SECURITY_HEADERS)


ROUTES = [
    Route("/backfills", listing), Route("/fragments/backfills", listing),
    Route("/backfills/{backfill_id}", one), Route("/backfills/{backfill_id}/fragment", one),
    Route("/api/backfills/{backfill_id}/cancel", cancel, methods=["POST"]),
]
