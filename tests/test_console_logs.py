"""The console's log page (/invocations/<id>/log): dbt.log with its colours as classes, its lines
tagged by node, a filter by node that works without JavaScript, and links back to the partitions."""

from __future__ import annotations

import json
import re
import subprocess
from html.parser import HTMLParser

import pytest
from browser import artifact, chromium
from conftest import Project
from test_console import Console, break_number

from runner.console.logs import ansi_to_html, parse, strip_ansi

ESC = "\x1b"

# --- the ANSI converter -----------------------------------------------------------------------


def test_colours_become_classes():
    assert ansi_to_html("[\x1b[32mOK\x1b[0m in 0.07s]") == '[<span class="ansi-green">OK</span> in 0.07s]'
    assert ansi_to_html("\x1b[31mERROR\x1b[0m") == '<span class="ansi-red">ERROR</span>'
    assert ansi_to_html("\x1b[93mWARN\x1b[0m") == '<span class="ansi-bright-yellow">WARN</span>'
    assert ansi_to_html("\x1b[1;31mbad\x1b[0m fine") == '<span class="ansi-red ansi-bold">bad</span> fine'
    assert ansi_to_html("\x1b[1mbold \x1b[36mcyan\x1b[39m plain\x1b[0m") == (
        '<span class="ansi-bold">bold </span><span class="ansi-cyan ansi-bold">cyan</span><span class="ansi-bold"> plain</span>')
    assert ansi_to_html("\x1b[0m23:43:49 [info ]: done") == "23:43:49 [info ]: done"  # dbt starts every line with a reset
    assert ansi_to_html("\x1b[mplain") == "plain"  # ESC[m is a reset too


def test_markup_in_a_log_line_comes_out_escaped():
    line = "\x1b[31m<script>alert('x')</script>\x1b[0m & <img src=x onerror=alert(1)> \"quoted\""
    html = str(ansi_to_html(line))
    assert "<script" not in html and "<img" not in html
    assert html == ('<span class="ansi-red">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</span>'
                    " &amp; &lt;img src=x onerror=alert(1)&gt; &#34;quoted&#34;")


def test_unknown_codes_and_other_sequences_are_dropped():
    assert ansi_to_html("\x1b[4munderlined\x1b[24m \x1b[5;7mblink\x1b[0m") == "underlined blink"
    # 38;5;N and 38;2;R;G;B carry a colour of their own: their numbers are not codes (31 is no red here).
    assert ansi_to_html("\x1b[38;5;31mx\x1b[0m \x1b[38;2;31;32;33my\x1b[0m") == "x y"
    assert ansi_to_html("\x1b[48;5;1;32mz\x1b[0m") == '<span class="ansi-green">z</span>'  # a code after them still counts
    # Cursor and erase sequences, a window title, a lone ESC and other control characters: gone.
    html = str(ansi_to_html("a\x1b[2Kb\x1b[1Ac\x1b]0;title\x07d\x1be\x07f\x00g\rh\x1b"))
    assert html == "abcdefgh"
    assert strip_ansi("\x1b[32mOK\x1b[0m \x1b]8;;http://x\x1b\\link") == "OK link"


SAMPLE = """

============================== 23:43:49.358415 | 27ad0e3e-b392-4be9-9e98-df753eac88b0 ==============================
\x1b[0m23:43:49.358415 [info ] [MainThread]: Running with dbt=1.11.16
\x1b[0m23:43:49.431659 [info ] [Thread-11 ]: 1 of 3 START sql table model main.stg_daily_files__quotes .......... [RUN]
\x1b[0m23:43:49.471641 [error] [T-1]: 1 of 3 ERROR creating sql table model main.stg_daily_files__quotes [\x1b[31mERROR\x1b[0m in 0.04s]
\x1b[0m23:43:49.474628 [info ] [Thread-12 ]: 2 of 3 SKIP test stg_quotes_are_plausible .......... [\x1b[33mSKIP\x1b[0m]
\x1b[0m23:43:49.478454 [info ] [Thread-12 ]: 3 of 3 SKIP relation main.raw_partition_data .......... [\x1b[33mSKIP\x1b[0m]
\x1b[0m23:43:49.492542 [info ] [MainThread]: 1 of 1 START hook: daily_loads.on-run-end.0 .......... [RUN]
\x1b[0m23:43:49.496217 [info ] [MainThread]: \x1b[31mCompleted with 1 error, 0 partial successes, and 0 warnings:\x1b[0m
\x1b[0m23:43:49.496542 [info ] [MainThread]: 
\x1b[0m23:43:49.496940 [error] [MainThread]: \x1b[31mFailure in model stg_daily_files__quotes (models/stg_daily_files__quotes.sql)\x1b[0m
\x1b[0m23:43:49.497299 [error] [MainThread]:   Runtime Error in model stg_daily_files__quotes (models/stg_daily_files__quotes.sql)
  Invalid Input Error: unparseable number in data/source/2018-01-03.csv (column share_price): '<abc>'
\x1b[0m23:43:49.497713 [info ] [MainThread]: 
\x1b[0m23:43:49.497995 [info ] [MainThread]:   compiled code at target/compiled/stg_daily_files__quotes.sql
\x1b[0m23:43:49.498500 [info ] [MainThread]: Done. PASS=1 WARN=0 ERROR=1 SKIP=2 NO-OP=0 TOTAL=4
"""


def test_a_text_log_is_read_line_by_line_with_each_lines_node():
    entries = parse(SAMPLE)
    assert [(entry.number, entry.level, entry.node) for entry in entries] == [
        (3, None, None), (4, "info", None),
        (5, "info", "stg_daily_files__quotes"), (6, "error", "stg_daily_files__quotes"),
        (7, "info", "stg_quotes_are_plausible"), (8, "info", "raw_partition_data"), (9, "info", "daily_loads.on-run-end.0"),
        (10, "info", None), (11, "info", None),
        # The summary's failure, and the lines after it, are about its node; dbt's last line is not.
        (12, "error", "stg_daily_files__quotes"), (13, "error", "stg_daily_files__quotes"), (15, "info", None),
        (16, "info", "stg_daily_files__quotes"), (17, "info", None),
    ]
    error = next(entry for entry in entries if entry.number == 13)
    assert error.text.endswith("(column share_price): '<abc>'")  # a message's further line is part of it
    assert ESC not in error.text and "&lt;abc&gt;" in error.html
    assert str(entries[3].html).endswith('[<span class="ansi-red">ERROR</span> in 0.04s]')


def test_a_json_log_names_each_lines_node_by_its_node_info():
    events = [
        {"info": {"msg": "Running with dbt=1.11.16", "level": "info", "thread": "MainThread", "ts": "2018-01-03T23:44:02.675205Z"},
         "data": {}},
        {"info": {"msg": "1 of 6 OK created sql table model main.stg ... [\u001b[32mOK\u001b[0m in 0.20s]", "level": "info",
                  "thread": "Thread-1", "ts": "2018-01-03T23:44:03.000001Z"},
         "data": {"node_info": {"unique_id": "model.daily_loads.stg", "node_name": "stg"}}},
    ]
    entries = parse("\n".join(json.dumps(event) for event in events) + "\n")
    assert [(entry.time, entry.node, entry.text) for entry in entries] == [
        ("23:44:02.675205", None, "Running with dbt=1.11.16"),
        ("23:44:03.000001", "stg", "1 of 6 OK created sql table model main.stg ... [OK in 0.20s]"),
    ]
    assert '<span class="ansi-green">OK</span>' in entries[1].html


# --- the page, served by a real console over a real load ---------------------------------------------


def get(console: Console, path: str) -> tuple[int, str, dict]:
    """A GET, its headers by their names in lower case."""
    status, body, headers = console.request("GET", path)
    return status, body, {name.lower(): value for name, value in headers.items()}


@pytest.fixture(scope="module")
def loaded(template_project, tmp_path_factory):
    """Three days loaded in chunks of two: 2018-01-01 and -02 in one invocation, -03 (a bad
    number) failing in another; and a console over them."""
    root = tmp_path_factory.mktemp("console-logs") / "project"
    subprocess.run(["cp", "-r", str(template_project), str(root)], check=True)
    project = Project(root)
    break_number(project.file("2018-01-03"))
    result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-03", "--chunk-size", "2")
    assert result.exit_code == 1, result.output
    console = Console(root)
    yield project, console
    _, err = console.stop()
    assert "Traceback" not in err, err


def invocation_of(project: Project, day: str) -> str:
    result = project.runner("history", day, "--json", catch=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)[0]["invocation_id"]


class Page(HTMLParser):
    """The parts of a log page the tests look at: its links, its lines, its scripts."""

    def __init__(self, html: str):
        super().__init__()
        self.links: dict[str, list[str]] = {}  # class -> hrefs
        self.lines: list[dict] = []  # each <li> of the log: its attributes and text
        self.scripts: list[dict] = []
        self._line: dict | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            self.links.setdefault(attrs.get("class") or "", []).append(attrs["href"])
        elif tag == "li" and "entry" in (attrs.get("class") or ""):
            self._line = {**attrs, "text": ""}
            self.lines.append(self._line)
        elif tag == "script":
            self.scripts.append(attrs)

    def handle_endtag(self, tag):
        if tag == "li":
            self._line = None

    def handle_data(self, data):
        if self._line is not None:
            self._line["text"] += data


def test_the_log_page_shows_the_log_styled_by_node_with_links_back(loaded):
    project, console = loaded
    invocation = invocation_of(project, "2018-01-03")
    assert invocation_of(project, "2018-01-01") == invocation_of(project, "2018-01-02") != invocation

    # The partition page links to the HTML page, not to the raw file.
    status, body, _ = get(console, "/partitions/2018-01-03")
    assert status == 200
    assert f'href="/invocations/{invocation}/log"' in body and f'href="/invocations/{invocation}/dbt.log"' not in body

    status, html, headers = get(console, f"/invocations/{invocation}/log")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in headers["content-security-policy"]
    page = Page(html)
    # Colours as classes; no escape character, no code left as text; no inline script.
    assert '<span class="ansi-red">ERROR</span>' in html and 'class="ansi-green"' in html
    assert ESC not in html and "[0m" not in html and "[31m" not in html
    assert page.scripts == [{"src": "/static/console.js", "defer": None}]
    assert any("unparseable number" in line["text"] for line in page.lines)
    assert str(project.root) not in html  # paths from the project's folder, as on the partition page
    nodes = {line.get("data-node") for line in page.lines}
    assert {"stg_daily_files__quotes", "raw_partition_data", "daily_summary", None} <= nodes

    # Back: to the overview and to the one partition this invocation loaded.
    assert page.links["overview"] == ["/"]
    assert page.links["partition"] == ["/partitions/2018-01-03"]
    status, body, _ = get(console, page.links["partition"][0])
    assert status == 200 and "<h1>Partition 2018-01-03</h1>" in body
    # The raw log, as it was: served at its own URL.
    assert page.links["raw"] == [f"/invocations/{invocation}/dbt.log"]
    status, raw, headers = get(console, page.links["raw"][0])
    assert status == 200 and headers["content-type"] == "text/plain; charset=utf-8"
    assert "Running with dbt" in raw and "\x1b[31mERROR\x1b[0m" in raw

    # A chunk's invocation links to each partition it loaded.
    other = invocation_of(project, "2018-01-01")
    status, html, _ = get(console, f"/invocations/{other}/log")
    assert status == 200
    assert Page(html).links["partition"] == ["/partitions/2018-01-01", "/partitions/2018-01-02"]


def test_the_node_filter_shows_only_that_nodes_lines(loaded):
    project, console = loaded
    invocation = invocation_of(project, "2018-01-03")
    status, html, _ = get(console, f"/invocations/{invocation}/log?node=stg_daily_files__quotes")
    assert status == 200
    lines = Page(html).lines
    assert {line.get("data-node") for line in lines} == {"stg_daily_files__quotes"}
    texts = [" ".join(line["text"].split()) for line in lines]
    assert any("START sql table model main.stg_daily_files__quotes" in text for text in texts)
    assert any("Failure in model stg_daily_files__quotes" in text for text in texts)
    assert any("unparseable number in data/source/2018-01-03.csv" in text for text in texts)
    assert not any("raw_partition_data" in text or "Running with dbt" in text for text in texts)
    assert '<option value="stg_daily_files__quotes" selected>' in html

    status, html, _ = get(console, f"/invocations/{invocation}/log?node=raw_partition_data")
    assert status == 200
    lines = Page(html).lines  # skipped after the failure upstream: one line
    assert len(lines) == 1 and lines[0]["data-node"] == "raw_partition_data"
    assert re.search(r"\d+ of \d+ SKIP relation main\.raw_partition_data \.+ \[SKIP\]", lines[0]["text"])

    # A node the log does not name, or an invocation it does not know, is refused.
    status, body, _ = get(console, f"/invocations/{invocation}/log?node=%3Cscript%3E")
    assert status == 400 and "<script>" not in body and "&lt;script&gt; is not a node of this log" in body
    for path in ("/invocations/00000000-0000-0000-0000-000000000000/log", "/invocations/..%2F..%2Fdbt_project.yml/log",
                 f"/invocations/{invocation}/../../dbt_project.yml"):
        status, body, _ = get(console, path)
        assert status == 404, path


def test_in_chromium_the_partition_page_opens_the_log_and_filters_it_by_node(loaded):
    project, console = loaded
    invocation = invocation_of(project, "2018-01-03")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(console.url + "partitions/2018-01-03")
        page.locator("tbody.run").first.locator("a.log").click()
        page.wait_for_url(console.url + f"invocations/{invocation}/log")
        assert page.locator("ol.log-lines li").count() > 10
        assert page.locator("ol.log-lines .ansi-red").first.inner_text() == "ERROR"
        # The styles apply: an error's status is red, not the text's colour.
        assert page.locator("ol.log-lines .ansi-red").first.evaluate("el => getComputedStyle(el).color") == "rgb(255, 123, 114)"
        page.select_option("#node", "stg_daily_files__quotes")
        page.locator('#node-filter button[type="submit"]').click()
        page.wait_for_url(re.compile(r".*/log\?node=stg_daily_files__quotes$"))
        shown = page.locator("ol.log-lines li").evaluate_all("els => els.map(el => el.dataset.node)")
        assert len(shown) >= 4 and set(shown) == {"stg_daily_files__quotes"}
        assert "unparseable number" in page.locator("ol.log-lines").inner_text()
        page.screenshot(path=artifact("console-log.png"), full_page=True)
        # Back to the partition it loaded.
        page.locator("a.partition").click()
        page.wait_for_url(console.url + "partitions/2018-01-03")
    assert errors == []
