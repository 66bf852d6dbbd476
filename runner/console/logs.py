"""An invocation's dbt.log as a page people read: ANSI colours turned into classes (never the
log's own text as HTML), each line tagged with the dbt node it is about, and the partitions that
invocation loaded.

The runner has dbt write its file log as text (`--log-level-file info`, runner/dbt.py): lines of
`HH:MM:SS.ffffff [level] [thread]: message`, a message's further lines unprefixed. A line names
its node in dbt's progress lines (`4 of 6 OK created sql incremental model main.raw_partition_data
..... [OK in 0.07s]`) and in the summary's failures and warnings (`Failure in model NAME (path)`,
whose following lines are about NAME too). A log written with `--log-format-file json` is read
as well: each event's `data.node_info` names its node."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from markupsafe import Markup, escape

from runner.artifacts import node_name
from runner.console import pages
from runner.console.history import LogIndex
from runner.ledger import Ledger
from runner.project import Project

COLOURS = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]
# An SGR sequence (colours), any other CSI sequence (cursor, erase), an OSC sequence (titles, links).
ESCAPE = re.compile(r"\x1b\[([0-9;:?]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b")
# Control characters other than tab and newline never reach the page.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def sgr_classes(parameters: str, bold: bool, colour: str | None) -> tuple[bool, str | None]:
    """The style after one SGR sequence: 0 resets, 1 bolds, 30-37 and 90-97 colour (22 and 39
    undo bold and colour); every other code, and the arguments of 38 and 48, is dropped."""
    codes = [int(code) if code.isdigit() else -1 for code in parameters.replace(":", ";").split(";")] if parameters else [0]
    index = 0
    while index < len(codes):
        code = codes[index]
        if code == 0:
            bold, colour = False, None
        elif code == 1:
            bold = True
        elif code == 22:
            bold = False
        elif 30 <= code <= 37:
            colour = COLOURS[code - 30]
        elif 90 <= code <= 97:
            colour = "bright-" + COLOURS[code - 90]
        elif code == 39:
            colour = None
        elif code in (38, 48):  # 38;5;N or 38;2;R;G;B: a colour of its own, not codes
            kind = codes[index + 1] if index + 1 < len(codes) else None
            index += 2 if kind == 5 else 4 if kind == 2 else 1
        index += 1
    return bold, colour


def _span(text: str, bold: bool, colour: str | None) -> str:
    if not text:
        return ""
    classes = ([f"ansi-{colour}"] if colour else []) + (["ansi-bold"] if bold else [])
    body = str(escape(CONTROL.sub("", text)))
    return f'<span class="{" ".join(classes)}">{body}</span>' if classes else body


def ansi_to_html(text: str) -> Markup:
    """Text with ANSI escape sequences as HTML: everything escaped, colours as classes, every
    other sequence and control character dropped."""
    parts, position, bold, colour = [], 0, False, None
    for found in ESCAPE.finditer(text):
        parts.append(_span(text[position:found.start()], bold, colour))
        if found.group(2) == "m":
            bold, colour = sgr_classes(found.group(1), bold, colour)
        position = found.end()
    parts.append(_span(text[position:], bold, colour))
    return Markup("".join(parts))


def strip_ansi(text: str) -> str:
    return CONTROL.sub("", ESCAPE.sub("", text))


# The text log's line: an escape code dbt puts first, the time, the level, the thread, the message.
PREFIX = re.compile(r"^(?:\x1b\[[0-9;]*m)*(\d\d:\d\d:\d\d\.\d+) \[(\w+)\s*\] \[([^\]]*)\]: ?(.*)$")
BANNER = re.compile(r"^=+ .* =+$")
# `4 of 6 START sql incremental model main.raw_partition_data ...... [RUN]`: the node is the
# description's last word (a relation without its schema). A hook's is its whole name.
PROGRESS = re.compile(r"^\d+ of \d+ (\S+) (?P<what>.*?)[ .]*\[[^\]]*\]\s*$")
HOOK = re.compile(r"\bhook: (\S+)")
# The summary: `Failure in model NAME (path)`, `Runtime Error in model NAME (path)`, `Warning in test NAME (path)`.
KINDS = "model|test|seed|snapshot|unit_test|analysis|operation|sql_operation|source|exposure|metric|saved_query|semantic_model"
PROBLEM = re.compile(rf"^\s*(?:Failure|Warning|[A-Z][A-Za-z ]*Error) in (?:{KINDS}) ([^\s(]+)")
# After the summary's problems, dbt's last line.
DONE = re.compile(r"^(?:Done\.|Finished running|Completed )")


@dataclass(frozen=True)
class Entry:
    """One message of the log: its first line's number, its time, level and thread, the node it is
    about (None: the invocation's own), its text without escape codes and as HTML."""

    number: int
    time: str | None
    level: str | None
    thread: str | None
    node: str | None
    text: str
    html: Markup


def node_of_progress(message: str) -> str | None:
    found = PROGRESS.match(message)
    if not found:
        return None
    hook = HOOK.search(found.group("what"))
    if hook:
        return hook.group(1)
    words = found.group("what").split()
    if not words:
        return None
    return words[-1].replace('"', "").replace("`", "").rsplit(".", 1)[-1]  # main.NAME: the relation's name


def parse(text: str) -> list[Entry]:
    """The entries of a dbt.log, text or JSON lines, each tagged with its node where the log says."""
    lines = text.splitlines()
    if any(line.startswith("{") for line in lines[:5]) and all(not line.strip() or line.startswith("{") for line in lines[:50]):
        return _parse_json(lines)
    return _parse_text(lines)


def _parse_text(lines: list[str]) -> list[Entry]:
    raw: list[tuple[int, str | None, str | None, str | None, list[str]]] = []
    for number, line in enumerate(lines, 1):
        found = PREFIX.match(line)
        if found:
            raw.append((number, found.group(1), found.group(2), found.group(3).strip(), [found.group(4)]))
        elif raw and raw[-1][1] is not None and line:  # a message's further line
            raw[-1][4].append(line)
        elif line.strip():  # the invocation's banner, or anything else
            raw.append((number, None, None, None, [line]))
    entries, sticky = [], None
    for number, time, level, thread, message_lines in raw:
        message = "\n".join(message_lines)
        plain = strip_ansi(message)
        first = plain.split("\n", 1)[0]
        node = node_of_progress(first)
        if node is None:
            problem = PROBLEM.match(first)
            if problem:
                sticky = problem.group(1)
            elif DONE.match(first.strip()) or BANNER.match(first):
                sticky = None
            node = sticky if plain.strip() else None
        entries.append(Entry(number, time, level, thread, node, plain, ansi_to_html(message)))
    return entries


def _parse_json(lines: list[str]) -> list[Entry]:
    entries = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
            info = event.get("info") or {}
            message = str(info.get("msg") or "")
            data = event.get("data") or {}
        except (ValueError, AttributeError):
            entries.append(Entry(number, None, None, None, None, strip_ansi(line), ansi_to_html(line)))
            continue
        node_info = data.get("node_info") if isinstance(data, dict) else None
        node = None
        if isinstance(node_info, dict) and node_info.get("unique_id"):
            node = str(node_info.get("node_name") or node_name(str(node_info["unique_id"])))
        time = str(info.get("ts") or "")[11:26] or None
        level = info.get("level")
        thread = info.get("thread")
        entries.append(Entry(number, time, str(level) if level else None, str(thread) if thread else None,
                             node, strip_ansi(message), ansi_to_html(message)))
    return entries


@dataclass(frozen=True)
class LogNode:
    name: str
    lines: int
    status: str | None  # the ledger's, where it recorded the node


@dataclass(frozen=True)
class LogPage:
    project_name: str
    invocation_id: str
    entries: list[Entry]  # those shown: all, or the chosen node's
    total: int
    nodes: list[LogNode]
    node: str | None
    partitions: list[date]

    @property
    def node_names(self) -> list[str]:
        return [node.name for node in self.nodes]


def build(project: Project, invocation_id: str, logs: LogIndex, name: str, node: str | None = None) -> LogPage | None:
    """The page of an invocation's log, or None when there is no such log."""
    path = logs.log_file(invocation_id)
    if path is None:
        return None
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    root = f"{project.project_dir}/"
    entries = parse(text.replace(root, ""))  # paths from the project's folder, as the partition page shows them
    runs = Ledger(project.ledger_path).runs(where="invocation_id = ?", params=[invocation_id])
    statuses: dict[str, str] = {}
    for run in runs:
        statuses.setdefault(node_name(run.unique_id), run.status)
    counts: dict[str, int] = {}
    for entry in entries:
        if entry.node:
            counts[entry.node] = counts.get(entry.node, 0) + 1
    nodes = [LogNode(found, count, statuses.get(found)) for found, count in counts.items()]
    nodes += [LogNode(found, 0, status) for found, status in statuses.items() if found not in counts]  # recorded, never named
    shown = [entry for entry in entries if entry.node == node] if node else entries
    partitions = sorted({run.partition_date for run in runs})
    return LogPage(name, invocation_id, shown, len(entries), nodes, node, partitions)


def render(page: LogPage, token: str, root: Path | None = None) -> str:
    context = {**pages._common(False, token, root), "page": page}
    return pages.ENVIRONMENT.get_template("log.html").render(context)
