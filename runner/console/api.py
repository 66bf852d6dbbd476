"""The console's API for backfills: the plan (made in this process, as `runner backfill --dry-run
--json` makes it), the launch of a `runner backfill` process, and the current job."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from runner.console.base import SECURITY_HEADERS, BadRequest, Console, _refused
from runner.console.job_options import Options, OptionsError
from runner.console.jobs import Refused


async def _options(request: Request) -> Options:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise BadRequest("the request is not JSON") from None
    try:
        return Options.parse(body)
    except OptionsError as error:
        raise BadRequest(str(error)) from None


async def plan(request: Request) -> Response:
    """The plan `runner backfill --dry-run --json` prints, made in this process (under the read lock)."""
    from starlette.concurrency import run_in_threadpool

    console: Console = request.app.state.console
    options = await _options(request)
    try:
        planned = await run_in_threadpool(console.read, console.backfills.plan, options)
    except Refused as error:
        return _refused(str(error))
    invocations = len({item["invocation"] for item in planned})
    return JSONResponse({"plan": planned, "invocations": invocations}, headers=SECURITY_HEADERS)


async def launch(request: Request) -> Response:
    console: Console = request.app.state.console
    options = await _options(request)
    try:
        job = console.backfills.start(options)
    except Refused as error:
        return _refused(f"Refused: {error}")
    return JSONResponse({"job": job.as_dict(console.root)}, 202, headers=SECURITY_HEADERS)


async def current_job(request: Request) -> Response:
    console: Console = request.app.state.console
    job = console.backfills.current
    return JSONResponse({"job": job.as_dict(console.root) if job else None}, headers=SECURITY_HEADERS)
