"""The console's web application (Starlette): the overview, a page per partition, the dbt logs,
and backfills launched as `runner backfill` processes. Safe by default: only the bound host's
name is served (DNS rebinding), and every state-changing request is a POST with the process's token.
Live: /changes answers a cursor that moves whenever the ledger, the warehouse or the source folder
does (whichever process wrote them) or the console's backfill has news; the page polls it and fetches
its fragment again only when it moved."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
import time
from contextlib import asynccontextmanager
from datetime import date

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from runner.console import history, logs, pages, views
from runner.console.glyphs import known_states
from runner.console.jobs import Backfills, Options, OptionsError, Refused
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


def overview(request: Request) -> Response:
    console: Console = request.app.state.console
    cursor = console.cursor()  # before reading: a change made while it reads moves it again
    job = console.backfills.current
    pending = job.pending() if job else {}
    view = console.read(views.build, console.project, console.dates(request), console.shown_states(request), None, pending)
    fragment = request.url.path.startswith("/fragments/")
    return _page(pages.overview(view, job, console.token, fragment=fragment, cursor=cursor), cursor=cursor)


def partition(request: Request) -> Response:
    console: Console = request.app.state.console
    day = _date(request.path_params["day"], None, "partition")
    cursor = console.cursor()
    job = console.backfills.current
    pending = job.pending().get(day.isoformat()) if job else None
    page = console.read(history.build, console.project, day, console.logs, console.name)
    fragment = request.url.path.endswith("/fragment")
    return _page(pages.partition(page, job, console.token, fragment, cursor=cursor, pending=pending), cursor=cursor)


async def changes(request: Request) -> Response:
    """The change cursor, and the console's backfill as its events tell it: polled by the pages
    (twice a second), which fetch their fragment again when the cursor is not the one they show."""
    console: Console = request.app.state.console
    cursor = console.cursor()
    job = console.backfills.current
    return JSONResponse({"cursor": cursor, "changed": cursor != request.query_params.get("since"),
                         "job": job.progress(console.root) if job else None}, headers=SECURITY_HEADERS)


def dbt_log(request: Request) -> Response:
    """An invocation's dbt.log: found by its id among target/runner/'s own folders, nothing else."""
    console: Console = request.app.state.console
    path = console.logs.log_file(request.path_params["invocation_id"])
    if path is None:
        return _page(pages.error(404, "No such dbt.log."), status=404)
    return FileResponse(path, media_type="text/plain; charset=utf-8", headers=SECURITY_HEADERS)


def log_page(request: Request) -> Response:
    """An invocation's dbt.log as HTML: colours as classes, a filter by node, links to its partitions."""
    console: Console = request.app.state.console
    node = request.query_params.get("node") or None
    page = console.read(logs.build, console.project, request.path_params["invocation_id"], console.logs, console.name, node)
    if page is None:
        return _page(pages.error(404, "No such dbt.log."), status=404)
    if node is not None and node not in page.node_names:
        raise BadRequest(f"{node} is not a node of this log: choose from {', '.join(page.node_names) or 'none'}")
    return _page(logs.render(page, console.token, console.project.project_dir))


async def _options(request: Request) -> Options:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise BadRequest("the request is not JSON") from None
    try:
        return Options.parse(body)
    except OptionsError as error:
        raise BadRequest(str(error)) from None


def _refused(message: str) -> JSONResponse:
    """The page's own requests answer a refusal in the body, not with a 4xx status, which the
    browser would log as an error: the request was understood, and the answer is no."""
    return JSONResponse({"error": message}, headers=SECURITY_HEADERS)


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


async def bad_request(request: Request, error: BadRequest) -> Response:
    if request.method == "POST":
        return _refused(str(error))
    return _page(pages.error(400, str(error)), status=400)


async def not_found(request: Request, error: Exception) -> Response:
    return _page(pages.error(404, "Not found."), status=404)


class RequireToken:
    """Every request that could change something is a POST carrying this process's token; other
    methods than GET, HEAD and POST are refused."""

    def __init__(self, app, console: Console):
        self.app, self.console = app, console

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD"):
            sent = dict(scope["headers"]).get(TOKEN_HEADER.lower().encode(), b"").decode("latin-1")
            if scope["method"] != "POST" or not secrets.compare_digest(sent, self.console.token):
                response = JSONResponse({"error": "refused: a POST needs this console's token"}, 403, headers=SECURITY_HEADERS)
                return await response(scope, receive, send)
        return await self.app(scope, receive, send)


def create_app(console: Console) -> Starlette:
    from runner.console import backfill_pages  # its pages use this module's responses

    @asynccontextmanager
    async def lifespan(app):
        yield
        console.backfills.stop()  # a backfill does not outlive its console

    static = StaticFiles(packages=[("runner.console", "static")])
    app = Starlette(
        routes=[
            Route("/", overview), Route("/fragments/board", overview),
            Route("/partitions/{day}", partition), Route("/partitions/{day}/fragment", partition),
            Route("/invocations/{invocation_id}/dbt.log", dbt_log),
            Route("/invocations/{invocation_id}/log", log_page),
            Route("/api/plan", plan, methods=["POST"]), Route("/api/backfill", launch, methods=["POST"]),
            Route("/api/job", current_job), Route("/changes", changes),
            *backfill_pages.ROUTES,
            Mount("/static", static, name="static"),
        ],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=console.allowed_hosts), Middleware(RequireToken, console=console)],
        exception_handlers={BadRequest: bad_request, 404: not_found},
        lifespan=lifespan,
    )
    app.state.console = console
    return app
