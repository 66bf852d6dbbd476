"""runner ui: the partition console, started as a process on a free port and driven in headless Chromium."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser import artifact, chromium
from conftest import Project, ctrl_c_reaches_the_child

from runner.console.job_options import Options
from runner.console.jobs import Job
from runner.events import Chunks, json_line

SPAN = ("--start", "2018-01-01", "--end", "2018-01-07")
QUERY = "?start=2018-01-01&end=2018-01-07"
# Each cell of the overview's calendars: its date, state and glyph.
CELLS = "els => els.map(el => [el.dataset.date, el.dataset.state, el.textContent])"
GLYPHS = {"materialized": "✓", "failed": "✕", "stale": "~", "missing": "·", "running": "↻", "awaiting": "_", "late": "L"}


def break_number(path: Path) -> None:
    """A non-number ('abc') in the first row's close price: the partition fails."""
    lines = path.read_text().splitlines()
    fields = lines[1].split(",")
    fields[1] = "abc"
    lines[1] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")


class Console:
    """`runner ui --port 0` in a process of its own, as a user starts it."""

    def __init__(self, root: Path, env: dict[str, str] | None = None):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "runner", "--project-dir", str(root), "ui", "--port", "0"],
            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}, preexec_fn=ctrl_c_reaches_the_child,
        )
        line = self.process.stdout.readline()  # the runner says where it serves
        found = re.fullmatch(r"serving (http://127\.0\.0\.1:\d+/) \(Ctrl-C to stop\)\n", line)
        assert found, line + self.process.stderr.read()
        self.url = found.group(1)
        self.port = urlsplit(self.url).port
        first_answer(self.port)  # it says where before it listens: no test may knock before it answers

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, str, dict]:
        """A raw request: the path is sent exactly as given (no client tidies a crafted one)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read().decode(), dict(response.getheaders())
        finally:
            connection.close()

    def stop(self) -> tuple[str, str]:
        self.process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            out, err = self.process.communicate(timeout=90)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        assert self.process.returncode == 0, err
        return out, err


@pytest.fixture(scope="module")
def loaded(template_project, tmp_path_factory):
    """A project with loaded, failed, stale and missing partitions (and two whose files are late), and its console."""
    root = tmp_path_factory.mktemp("console") / "project"
    subprocess.run(["cp", "-r", str(template_project), str(root)], check=True)
    project = Project(root)
    break_number(project.file("2018-01-03"))
    result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-04")
    assert result.exit_code == 1, result.output
    project.file("2018-01-02").write_text(project.file("2018-01-02").read_text() + "\n")  # changed since: stale
    console = Console(root)
    yield project, console
    out, err = console.stop()
    assert out == "stopped\n" and "Traceback" not in err


def watch_console(page) -> list[str]:
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_ui_help(project):
    result = project.runner("ui", "--help", catch=False)
    assert result.exit_code == 0
    assert " ".join(result.output.split("\nOptions:\n", 1)[1].split()) == (
        "--port INTEGER RANGE The port (0: any free port). [default: 8580; 0<=x<=65535] "  # the README's defaults
        "--host TEXT The address to listen on; anything but loopback lets other machines start backfills. [default: 127.0.0.1] "
        "--source-dir DIRECTORY Folder of the daily files (default: the source_dir var of dbt_project.yml). "
        "--help Show this message and exit.")


def test_overview_shows_each_state_with_its_glyph_and_count(loaded):
    project, console = loaded
    expected = {day: entry["state"] for day, entry in project.status(*SPAN).items()}
    assert list(expected.values()) == ["materialized", "stale", "failed", "materialized", "missing", "late", "late"]
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 760})
        errors = watch_console(page)
        page.goto(console.url + QUERY)
        assert page.title() == "Partitions of daily_loads"
        # One calendar: the models agree (the failed day's downstream models were only skipped).
        assert page.locator("section.heatmap").count() == 1
        cells = page.locator(".grid .cell").evaluate_all(CELLS)
        assert cells == [[day, state, GLYPHS[state]] for day, state in expected.items()]
        legend = {key.get_attribute("data-state"): " ".join(key.text_content().split()) for key in page.locator(".legend .key").all()}
        # Every state the project has, with none left out for being zero.
        assert legend == {"materialized": "✓ 2 materialized", "failed": "✕ 1 failed", "stale": "~ 1 stale", "missing": "· 1 missing",
                          "running": "↻ 0 running", "awaiting": "_ 0 awaiting", "late": "L 2 late"}
        # The rows-per-day chart: a bar per day, the loaded ones as tall as their rows.
        assert page.locator("#chart rect").count() == 7
        assert page.locator('#chart rect[data-date="2018-01-01"]').get_attribute("height") == "100.0"
        assert "/tmp" not in page.inner_text("body") and str(project.root) not in page.inner_text("body")
        page.screenshot(path=artifact("console-overview.png"), full_page=True)
    assert errors == []


def test_filtering_by_state_and_dates_shows_only_those_cells(loaded):
    project, console = loaded
    with chromium() as browser:
        page = browser.new_page()
        errors = watch_console(page)
        page.goto(console.url + QUERY)
        page.locator('#filters input[value="failed"]').check()
        page.locator('#filters input[value="stale"]').check()
        page.locator('#filters button[type="submit"]').click()
        page.wait_for_url(re.compile(r"state=failed&state=stale|state=stale&state=failed"))
        assert page.locator(".grid .cell").evaluate_all(CELLS) == [["2018-01-02", "stale", "~"], ["2018-01-03", "failed", "✕"]]

        page.goto(console.url + "?start=2018-01-04&end=2018-01-05")
        assert page.locator(".grid .cell").evaluate_all(CELLS) == [["2018-01-04", "materialized", "✓"], ["2018-01-05", "missing", "·"]]
    assert errors == []
    # Dates are checked as the CLI checks them; a state must be one.
    status, body, _ = console.request("GET", "/?start=2018-02-30")
    assert status == 400 and "start: &#39;2018-02-30&#39; is not a real calendar date" in body
    status, body, _ = console.request("GET", "/?start=2018-01-05&end=2018-01-01")
    assert status == 400 and "start 2018-01-05 is after end 2018-01-01" in body
    status, body, _ = console.request("GET", "/?state=gone")
    assert status == 400 and "gone is not a state" in body


def history_of(project: Project, day: str) -> list[dict]:
    result = project.runner("history", day, "--json", catch=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_click_opens_the_partition_page_with_every_run_and_node(loaded):
    project, console = loaded
    runs = history_of(project, "2018-01-03")  # newest first
    assert len(runs) >= 2  # the chunk failed, then the day alone
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = watch_console(page)
        page.goto(console.url + QUERY)
        page.locator('.grid .cell[data-date="2018-01-03"]').click()
        page.wait_for_url(console.url + "partitions/2018-01-03")
        assert page.locator(".now .state").inner_text() == "failed"
        shown = page.locator("tbody.run").evaluate_all("els => els.map(el => el.dataset.invocation)")
        assert shown == [run["invocation_id"] for run in runs]
        for index, run in enumerate(runs):
            body = page.locator("tbody.run").nth(index)
            assert body.locator(".outcome").inner_text() == "failed"
            if index:  # only the newest is open at first
                assert not body.locator("tr.nodes").is_visible()
                body.locator("button.toggle").click()
            nodes = body.locator("tr.node")
            assert nodes.count() == len(run["nodes"])
            statuses = sorted(nodes.locator(".status").all_inner_texts())
            assert statuses == sorted(node["status"] for node in run["nodes"])
        newest = page.locator("tbody.run").first
        error = newest.locator("tr.node", has=page.locator(".status", has_text=re.compile("^error$")))
        assert "unparseable number in data/source/2018-01-03.csv (column share_price): 'abc'" in error.inner_text()
        # The file as loaded against the file now.
        assert "the same file" in page.locator(".fingerprint").inner_text()
        for toggle in page.locator("tbody.run button.toggle").all()[1:]:
            toggle.click()  # closed again, for the screenshot
        assert "/tmp" not in page.inner_text("body") and str(project.root) not in page.inner_text("body")
        page.screenshot(path=artifact("console-partition.png"), full_page=True)

        page.goto(console.url + "partitions/2018-01-02")
        assert page.locator(".now .state").inner_text() == "stale"
        assert "the file changed since" in page.locator(".fingerprint").inner_text()
    assert errors == []


def test_the_dbt_log_link_opens_the_log_and_no_other_path_is_served(loaded):
    project, console = loaded
    invocation = history_of(project, "2018-01-03")[0]["invocation_id"]
    with chromium() as browser:
        page = browser.new_page()
        page.goto(console.url + "partitions/2018-01-03")
        page.locator("tbody.run").first.locator("a.log").click()
        page.wait_for_url(console.url + f"invocations/{invocation}/log")
        assert "unparseable number" in page.inner_text("body")
    status, body, headers = console.request("GET", f"/invocations/{invocation}/dbt.log")
    assert status == 200 and headers["content-type"] == "text/plain; charset=utf-8" and "Running with dbt" in body
    crafted = [
        f"/invocations/{invocation}/../../../dbt_project.yml",
        f"/invocations/{invocation}/run_results.json",
        "/invocations/../../dbt_project.yml/dbt.log",
        "/invocations/%2e%2e%2f%2e%2e%2fdbt_project.yml/dbt.log",
        "/invocations/..%2F..%2Fdbt_project.yml/dbt.log",
        f"/invocations/{project.root}/dbt.log",
        "/invocations//etc/passwd/dbt.log",
        "//etc/passwd",
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/..%2Fapp.py",
        "/dbt_project.yml",
        "/invocations/00000000-0000-0000-0000-000000000000/dbt.log",
    ]
    for path in crafted:
        status, body, _ = console.request("GET", path)
        assert status == 404, path
        assert "[project]" not in body and "name: " not in body


def test_a_post_without_the_token_and_a_foreign_host_are_refused(loaded):
    project, console = loaded
    body = json.dumps({"start": "2018-01-05", "end": "2018-01-05"}).encode()
    json_type = {"Content-Type": "application/json"}
    assert console.request("POST", "/api/backfill", body, json_type)[0] == 403
    assert console.request("POST", "/api/backfill", body, {**json_type, "X-Console-Token": "guess"})[0] == 403
    assert console.request("PUT", "/api/backfill", body, json_type)[0] == 403
    assert console.request("POST", "/api/plan", body, json_type)[0] == 403
    status, _, _ = console.request("GET", "/", headers={"Host": f"attacker.example:{console.port}"})
    assert status == 400
    assert console.request("GET", "/", headers={"Host": f"localhost:{console.port}"})[0] == 200
    status, job, _ = console.request("GET", "/api/job")
    assert status == 200 and json.loads(job) == {"job": None}  # nothing started


def test_the_static_report_fetches_nothing_and_shows_the_consoles_states(loaded, tmp_path):
    project, console = loaded
    out = tmp_path / "status.html"
    result = project.runner("report", *SPAN, "--out", str(out), catch=False)
    assert result.exit_code == 0, result.output
    requests = []
    with chromium() as browser:
        page = browser.new_page()
        errors = watch_console(page)
        page.goto(console.url + QUERY)
        live = page.locator(".grid .cell").evaluate_all(CELLS)
        page.on("request", lambda request: requests.append(request.url))
        page.goto(out.as_uri())
        assert page.locator(".grid .cell").evaluate_all(CELLS) == live
        legend = " ".join(page.locator(".legend").text_content().split())
        assert legend == "✓ 2 materialized ✕ 1 failed ~ 1 stale · 1 missing ↻ 0 running _ 0 awaiting L 2 late"
    assert requests == [out.as_uri()]
    assert errors == []


# Imported by every Python process started with its folder on PYTHONPATH (the console and the
# backfills it launches): each partition's build waits until the go file exists, so the page can
# be seen showing a partition running, whatever the machine's speed.
BUILDS_WAIT_FOR_GO = """
import os, pathlib, time
from runner import dbt
go = pathlib.Path(os.environ["BUILDS_WAIT_FOR"])
build = dbt.Dbt.build_partitions
def waiting(self, dates):
    while not go.exists():
        time.sleep(0.02)
    return build(self, dates)
dbt.Dbt.build_partitions = waiting
"""


def test_a_backfill_launched_from_the_page_runs_live_and_a_second_is_refused(project, tmp_path):
    hook, go = tmp_path / "hook", tmp_path / "go"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(BUILDS_WAIT_FOR_GO)
    console = Console(project.root, {"PYTHONPATH": str(hook), "BUILDS_WAIT_FOR": str(go)})
    try:
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            errors = watch_console(page)
            page.goto(console.url + "?start=2018-01-01&end=2018-01-05")
            page.evaluate("() => { window.notReloaded = true; }")
            assert set(page.locator(".grid .cell").evaluate_all("els => els.map(el => el.dataset.state)")) == {"missing"}
            form = page.locator("#backfill")
            form.locator('input[name="start"]').fill("2018-01-01")
            form.locator('input[name="end"]').fill("2018-01-05")
            form.locator('input[name="chunk_size"]').fill("1")
            page.locator("#plan-button").click()
            page.locator("#launch-message", has_text="5 partitions would run in 5 dbt invocation(s)").wait_for(timeout=120_000)
            assert page.locator("#plan tr").count() == 5

            page.locator("#start-button").click()
            page.locator("#launch-message", has_text="Backfill started").wait_for(timeout=60_000)
            page.locator("#start-button").click()  # while the first runs
            refusal = page.locator("#launch-message", has_text="Refused")
            refusal.wait_for(timeout=60_000)
            assert "a backfill is already running" in refusal.inner_text() and "lock" in refusal.inner_text()

            # Live: a partition shows running (its build waits for the go file), then all are
            # materialized, with no reload.
            page.locator('.grid .cell[data-state="running"]').first.wait_for(timeout=180_000)
            assert json.loads(console.request("GET", "/api/job")[1])["job"]["done"] == 0  # held at the first build
            go.touch()
            page.wait_for_function(
                "() => Array.from(document.querySelectorAll('.grid .cell')).every(c => c.dataset.state === 'materialized')",
                timeout=300_000,
            )
            page.locator("#job .job-summary", has_text=re.compile(r"^5 loaded, 0 failed in")).wait_for(timeout=30_000)
            assert page.evaluate("() => window.notReloaded") is True
        assert errors == []
        assert {entry["state"] for entry in project.status("--start", "2018-01-01", "--end", "2018-01-05").values()} == {"materialized"}
        job = ended_job(console)  # its summary line is printed a moment before the process exits
        assert job["returncode"] == 0 and job["done"] == job["total"] == 5
    finally:
        console.stop()


def test_a_jobs_progress_comes_from_its_events_and_other_lines_are_only_text():
    job = Job(Options.parse({"start": "2018-01-01", "end": "2018-01-03"}), None, datetime.now(UTC))
    days = ["2018-01-01", "2018-01-02", "2018-01-03"]
    plan = [{"partition_date": day, "state": "missing", "reason": "never loaded", "invocation": 1 + (day == days[2])}
            for day in days]
    job.take(json_line({"event": "plan", "partitions": plan, "invocations": 2, "total": 3}))
    assert (job.total, job.pending()) == (3, dict.fromkeys(days, "queued"))  # dbt is starting
    job.take(json_line(Chunks().event([date(2018, 1, 1), date(2018, 1, 2)])))
    assert job.pending() == {days[0]: "running", days[1]: "running", days[2]: "queued"}
    job.take("2018-01-01  loaded  20 rows  (1.0s)")  # what a person reads: text, never a partition done
    job.take('"2018-01-02"')
    assert (job.done, job.lines) == (0, ["2018-01-01  loaded  20 rows  (1.0s)", '"2018-01-02"'])
    load = {"event": "load", "rows": 20, "invocation_id": "i", "attempts": 1, "message": None, "seconds": 1.0}
    job.take(json_line({**load, "partition_date": days[0], "outcome": "loaded"}))
    job.take(json_line({**load, "partition_date": days[1], "outcome": "failed", "message": "bad"}))
    job.take(json_line({"event": "chunk", "invocation": 2, "partitions": [days[2]], "rerun": False}))
    assert (job.done, job.failed, job.summary, job.pending()) == (2, 1, None, {days[2]: "running"})
    job.take(json_line({**load, "partition_date": days[2], "outcome": "loaded"}))
    job.take(json_line({"event": "summary", "loaded": 2, "failed": 1, "not_run": 0, "interrupted": False, "exit_code": 1,
                        "seconds": 2.0, "wall_seconds": 5.0}))
    assert job.summary == "2 loaded, 1 failed in 2.0s (5.0s in all, with dbt's start-up)"
    job.returncode = 1
    assert (job.done, job.failed, job.pending()) == (3, 1, {})


# Imported by every Python process started with its folder on PYTHONPATH (the console and any child
# of it): each leaves a file named by its PID, so a test knows every Python process that ran.
PYTHONS_LEAVE_A_MARK = """
import os, pathlib, sys
pathlib.Path(os.environ["PYTHONS_SEEN"], str(os.getpid())).write_text(" ".join(sys.orig_argv))
"""


def test_the_plan_is_made_in_the_console_and_bad_settings_get_the_clis_message(project, tmp_path):
    hook, seen = tmp_path / "hook", tmp_path / "seen"
    hook.mkdir()
    seen.mkdir()
    (hook / "sitecustomize.py").write_text(PYTHONS_LEAVE_A_MARK)
    console = Console(project.root, {"PYTHONPATH": str(hook), "PYTHONS_SEEN": str(seen)})
    try:
        token = re.search(r'<meta name="console-token" content="([^"]+)">', console.request("GET", "/")[1])[1]
        headers = {"Content-Type": "application/json", "X-Console-Token": token}

        def post(path: str, **options) -> dict:
            body = {"start": "2018-01-01", "end": "2018-01-05", "only": "missing,failed", **options}
            status, answer, _ = console.request("POST", path, json.dumps(body).encode(), headers)
            assert status in (200, 202), answer
            return json.loads(answer)

        # The plan of `runner backfill --dry-run --json` for the same options, chunk_mb and retries included.
        plan = post("/api/plan", chunk_size="365", chunk_mb="0.001", retries=0)
        cli = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-05", "--only", "missing,failed",
                             "--chunk-size", "365", "--chunk-mb", "0.001", "--retries", "0", "--dry-run", "--json")
        assert cli.exit_code == 0, cli.output
        assert plan == {"plan": json.loads(cli.stdout), "invocations": 5}  # each day's file is over 0.001 MB
        assert post("/api/plan")["invocations"] == 1  # the CLI's defaults: a chunk of a year, 160 MB

        # A bad setting: the CLI's own message, to the plan and to a launch alike.
        for option, value in (("chunk_size", "0"), ("chunk_mb", "0"), ("chunk_mb", "nan"), ("retries", "-1"),
                              ("retries", "two")):
            flag = "--" + option.replace("_", "-")
            refused = project.runner("backfill", flag, value, "--dry-run")
            assert refused.exit_code == 2
            said = refused.stderr.splitlines()[-1].removeprefix("Error: ")
            assert said.startswith(f"Invalid value for '{flag}': ")
            assert post("/api/plan", **{option: value}) == {"error": said}
            assert post("/api/backfill", **{option: value}) == {"error": said}

        # No other Python process ran: the console planned in its own (which left its mark).
        assert [path.name for path in seen.iterdir()] == [str(console.process.pid)]
        assert json.loads(console.request("GET", "/api/job")[1]) == {"job": None}
    finally:
        console.stop()
    assert not project.warehouse.exists()  # a plan changes nothing


def ended_job(console: Console, timeout: float = 120.0) -> dict:
    """The console's job once its process has exited."""
    deadline = time.monotonic() + timeout
    while (job := json.loads(console.request("GET", "/api/job")[1])["job"])["running"]:
        assert time.monotonic() < deadline, "the backfill never ended"
        time.sleep(0.05)
    return job


def first_answer(port: int, timeout: float = 120.0) -> int:
    """The status of the first request the server on this port answers (it listens a moment after it says where)."""
    deadline = time.monotonic() + timeout
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            connection.request("GET", "/api/job")
            return connection.getresponse().status
        except ConnectionRefusedError:
            assert time.monotonic() < deadline, "the console never listened"
            time.sleep(0.05)
        finally:
            connection.close()


def test_another_host_than_loopback_is_served_with_a_warning(project):
    process = subprocess.Popen(
        [sys.executable, "-m", "runner", "--project-dir", str(project.root), "ui", "--host", "0.0.0.0", "--port", "0"],
        cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=ctrl_c_reaches_the_child,
    )
    try:
        warning = process.stderr.readline()
        serving = process.stdout.readline()
        # Once it answers (127.0.0.1 is one of the names it serves when bound to every address), it is serving:
        # Ctrl-C then stops it cleanly, as on loopback. Before that, it would be an interrupted start-up (130).
        answered = first_answer(int(serving.rsplit(":", 1)[1].split("/")[0]))
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=90)
    assert answered == 200
    assert (process.returncode, out) == (0, "stopped\n"), err
    assert warning == ("Warning: --host 0.0.0.0: the console is reachable from other machines, and anyone who reaches it "
                       "can read the ledger and the logs and start backfills\n")
    assert re.fullmatch(r"serving http://0\.0\.0\.0:\d+/ \(Ctrl-C to stop\)\n", serving), serving
