"""The console's web application (Starlette): the overview, a page per partition, the dbt logs,
and backfills launched as `runner backfill` processes. Safe by default: only the bound host's
name is served (DNS rebinding), and every state-changing request is a POST with the process's token.
Live: /changes answers a cursor that moves whenever the ledger, the warehouse or the source folder
does (whichever process wrote them) or the console's backfill has news; the page polls it and fetches
its fragment again only when it moved."""

from __future__ import annotations

import secrets
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from runner.console import api, backfill_pages, history, logs, pages, views
from runner.console.base import SECURITY_HEADERS, TOKEN_HEADER, BadRequest, Console, _date, _page, _refused


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
            Route("/api/plan", api.plan, methods=["POST"]), Route("/api/backfill", api.launch, methods=["POST"]),
            Route("/api/job", api.current_job), Route("/changes", changes),
            *backfill_pages.ROUTES,
            Mount("/static", static, name="static"),
        ],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=console.allowed_hosts), Middleware(RequireToken, console=console)],
        exception_handlers={BadRequest: bad_request, 404: not_found},
        lifespan=lifespan,
    )
    app.state.console = console
    return app
