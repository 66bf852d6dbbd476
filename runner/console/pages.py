"""Rendering the console's pages with Jinja2 (autoescaped), for the live console and for the
self-contained page of `runner report` alike."""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context
from markupsafe import Markup

from runner.console import glyphs
from runner.console.history import PartitionPage
from runner.console.jobs import Job
from runner.console.views import Overview

ENVIRONMENT = Environment(
    loader=PackageLoader("runner.console", "templates"), autoescape=True, undefined=StrictUndefined,
    trim_blocks=True, lstrip_blocks=True,
)
ENVIRONMENT.globals.update(look=glyphs.look, selectable=glyphs.SELECTABLE)
ENVIRONMENT.filters.update(
    when=lambda value: value.strftime("%Y-%m-%d %H:%M:%S") if value else "-",
    seconds=lambda value: "-" if value is None else f"{value:.2f}s",
    dash=lambda value: "-" if value is None or value == "" else value,
    short=lambda value: (value or "-")[:12],
)


@pass_context
def _relative(context, text: str | None) -> str | None:
    """Messages name files by absolute path: show them from the project's folder, which is where
    the reader stands (and a screenshot then shows no machine's folders)."""
    root = context.get("root")
    return text.replace(root, "") if text and root else text


ENVIRONMENT.filters["relative"] = _relative


def static_file(name: str) -> str:
    return resources.files("runner.console").joinpath("static", name).read_text(encoding="utf-8")


def _inline_json(value) -> Markup:
    """JSON safe inside a <script> element."""
    text = json.dumps(value, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _common(static: bool, token: str | None, root: Path | None = None, cursor: str | None = None) -> dict:
    """`cursor`: the console's change cursor as of just before the page was read (base.html gives it
    to console.js, which fetches the page's fragment again when /changes answers another)."""
    common = {"static": static, "token": token, "state_css": Markup(glyphs.stylesheet()), "root": f"{root}/" if root else None,
              "cursor": cursor}
    if static:  # everything inline: the page opens from disk and fetches nothing
        common["inline_css"] = Markup(static_file("console.css"))
        common["inline_js"] = Markup(static_file("report.js"))
    return common


def overview(view: Overview, job: Job | None = None, token: str | None = None, static: bool = False,
             generated_at: datetime | None = None, fragment: bool = False, cursor: str | None = None) -> str:
    context = {**_common(static, token, view.project_dir, cursor), "view": view, "job": job, "generated_at": generated_at,
               "selected": view.shown_states or set(), "live": view.loading or bool(job and job.running)}
    if static:  # the details panel reads each cell's last run from the page itself
        root = context["root"]
        context["data"] = _inline_json([
            [status.as_dict() | {"drawn": state, "message": (status.message or "").replace(root, "") or None}
             for status, state in zip(calendar.statuses, calendar.states)]
            for calendar in view.calendars
        ])
        context["titles"] = _inline_json([calendar.title for calendar in view.calendars])
    name = "_board.html" if fragment else "overview.html"
    return ENVIRONMENT.get_template(name).render(context)


def partition(page: PartitionPage, job: Job | None, token: str, fragment: bool = False, cursor: str | None = None,
              pending: str | None = None) -> str:
    """`pending`: `queued` or `running` while the console's backfill has yet to load this partition."""
    context = {**_common(False, token, page.project_dir, cursor), "page": page, "job": job, "pending": pending,
               "load_again": ",".join(glyphs.SELECTABLE)}
    return ENVIRONMENT.get_template("_partition_body.html" if fragment else "partition.html").render(context)


def error(status: int, message: str, token: str | None = None) -> str:
    return ENVIRONMENT.get_template("error.html").render({**_common(False, token), "status": status, "message": message})


def backfills(records: list, token: str, fragment: bool = False, cursor: str | None = None, mine: str | None = None) -> str:
    """Every backfill recorded, newest first; `mine`: the one this console launched, running."""
    context = {**_common(False, token, None, cursor), "records": records, "mine": mine}
    return ENVIRONMENT.get_template("_backfills_table.html" if fragment else "backfills.html").render(context)


def backfill(page, token: str, fragment: bool = False, cursor: str | None = None, mine: str | None = None,
             root: Path | None = None) -> str:
    """One backfill (backfill_records.BackfillPage): its partitions' outcomes and its invocations."""
    context = {**_common(False, token, root, cursor), "page": page, "record": page.record, "mine": mine}
    return ENVIRONMENT.get_template("_backfill_body.html" if fragment else "backfill.html").render(context)
