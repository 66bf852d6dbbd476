"""Backfills as records (runner/backfill_records.py): every backfill, whoever started it (`runner
backfill`, the console, `runner watch`'s loads, `runner run`), with its range, status, counts and
invocations; `runner backfills` lists them, and so does the console's Backfills page."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import date

import duckdb
import pytest
from browser import chromium
from children import PAUSED_RUNNER
from test_console import Console, break_number
from test_interrupts import wait_for

from runner import backfill_records
from runner.backfill_records import Origin, Recording
from runner.ledger import Ledger
from runner.ledger_schema import SCHEMA

DAYS = ["2018-01-01", "2018-01-02", "2018-01-03", "2018-01-04"]
RANGE = ("--start", DAYS[0], "--end", DAYS[-1])


def recorded(project) -> list[dict]:
    result = project.runner("backfills", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def tables(project) -> set[str]:
    with duckdb.connect(str(project.ledger), read_only=True) as connection:
        return {name for (name,) in connection.execute("select table_name from information_schema.tables").fetchall()}


def test_a_cli_backfill_with_one_bad_file_is_recorded_with_its_counts_and_invocations(project):
    break_number(project.file(DAYS[1]))
    assert project.runner("backfill", *RANGE, "--dry-run").exit_code == 0
    assert recorded(project) == []  # a dry run records nothing
    assert project.runner("backfills").output == "no backfills recorded\n"

    result = project.runner("backfill", *RANGE, "--chunk-size", "2")
    assert result.exit_code == 1, result.output

    (record,) = recorded(project)
    assert {key: record[key] for key in ("started_by", "range_start", "range_end", "selection", "requested", "loaded",
                                         "failed", "status", "chunks", "runner_pid")} == {
        "started_by": "cli", "range_start": DAYS[0], "range_end": DAYS[-1], "selection": "failed,missing,stale",
        "requested": 4, "loaded": 3, "failed": 1, "status": "failed", "chunks": 2, "runner_pid": os.getpid()}
    assert record["requested_dates"] == DAYS and record["finished_at"] >= record["started_at"]
    assert record["user_host"].endswith("@" + os.uname().nodename)
    # Every invocation that recorded its partitions, the failed chunk before its halves, in order.
    with duckdb.connect(str(project.ledger), read_only=True) as connection:
        invocations = [found for (found,) in connection.execute(
            "select invocation_id from partition_runs group by 1 order by min(recorded_at)").fetchall()]
    assert record["invocation_ids"] == invocations and len(invocations) == 4  # 01+02 failed, 01, 02, 03+04

    lines = project.runner("backfills").output.splitlines()
    assert lines[0].split() == ["backfill_id", "started_at", "by", "range", "status", "requested", "done", "failed"]
    assert lines[1].split()[0] == record["backfill_id"][:8]
    assert lines[1].split()[3:] == ["cli", DAYS[0], "to", DAYS[-1], "failed", "4", "3", "1"]

    # Its page's partitions: each with what this backfill did to it.
    ledger = Ledger(project.ledger)
    page = backfill_records.page(ledger, record["backfill_id"], "raw_partition_data", lambda invocation: True)
    assert [(str(item.partition_date), item.outcome, item.rows) for item in page.partitions] == [
        (DAYS[0], "loaded", 20), (DAYS[1], "failed", None), (DAYS[2], "loaded", 20), (DAYS[3], "loaded", 20)]
    assert [item.invocation_id for item in page.invocations] == invocations


def test_watch_and_run_loads_are_recorded_by_whoever_started_them(project):
    result = project.runner("watch", "--once")
    assert result.exit_code == 0, result.output
    assert project.runner("run", DAYS[1]).exit_code == 0
    ran, watched = recorded(project)  # newest first
    assert {key: watched[key] for key in ("started_by", "requested", "loaded", "failed", "status")} == {
        "started_by": "watch", "requested": 5, "loaded": 5, "failed": 0, "status": "succeeded"}
    assert {key: ran[key] for key in ("started_by", "range_start", "range_end", "requested", "loaded", "status")} == {
        "started_by": "run", "range_start": DAYS[1], "range_end": DAYS[1], "requested": 1, "loaded": 1, "status": "succeeded"}
    assert project.runner("watch", "--once").exit_code == 0  # nothing to load: no record
    assert len(recorded(project)) == 2


def test_a_backfill_stopped_by_sigterm_is_recorded_interrupted(project, tmp_path):
    ready, go = tmp_path / "ready", tmp_path / "go"
    child = subprocess.Popen(
        [sys.executable, "-c", PAUSED_RUNNER, str(ready), str(go), "build_partitions", "--project-dir", str(project.root),
         "backfill", *RANGE, "--chunk-size", "1", "--started-by", "console"],
        cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    wait_for(ready.exists)  # the first partition is in flight, the record written
    (running,) = recorded(project)
    assert (running["status"], running["runner_pid"], running["started_by"]) == ("running", child.pid, "console")
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 130, err

    (record,) = recorded(project)
    assert {key: record[key] for key in ("status", "requested", "loaded", "failed")} == {
        "status": "interrupted", "requested": 4, "loaded": 0, "failed": 0}
    (marker,) = record["invocation_ids"]  # the partition in flight, recorded interrupted under the runner's marker
    assert marker.startswith("runner-")
    page = backfill_records.page(Ledger(project.ledger), record["backfill_id"], "raw_partition_data", lambda found: False)
    assert [item.outcome for item in page.partitions] == ["interrupted", "not run", "not run", "not run"]


DIES_RECORDING = textwrap.dedent("""
    import sys
    from datetime import date
    from runner.backfill_records import Origin, Recording
    from runner.ledger import Ledger
    Recording(Ledger(sys.argv[1]), Origin("cli", date(2018, 1, 1), date(2018, 1, 2), "missing"), [date(2018, 1, 1)], 1)
""")  # and ends without finishing it: as a runner killed mid-load leaves its record


def test_a_record_whose_runner_died_reads_as_crashed(project):
    subprocess.run([sys.executable, "-c", DIES_RECORDING, str(project.ledger)], check=True)
    (record,) = recorded(project)
    assert (record["status"], record["finished_at"]) == ("crashed", None)
    with duckdb.connect(str(project.ledger), read_only=True) as connection:  # reads never write: still running
        assert connection.execute("select status from backfills").fetchall() == [("running",)]

    # A runner alive (this process), or on another host (it cannot be looked at from here), is running.
    ledger = Ledger(project.ledger)
    Recording(ledger, Origin("cli", date(2018, 1, 3), date(2018, 1, 3), "all"), [], 0)
    with duckdb.connect(str(project.ledger)) as connection:
        connection.execute("update backfills set runner_host = 'elsewhere' where runner_pid != ?", [os.getpid()])
    assert [record["status"] for record in recorded(project)] == ["running", "running"]


def test_an_old_ledger_without_the_table_reads_as_none_and_gains_it_on_its_next_write(project):
    with duckdb.connect(str(project.ledger)) as connection:  # a ledger written before backfills were recorded
        connection.execute(SCHEMA.split("create table if not exists backfills")[0])
    assert "backfills" not in tables(project)
    assert recorded(project) == []
    assert project.runner("backfills").output == "no backfills recorded\n"
    assert "backfills" not in tables(project)  # reads never write

    assert project.runner("run", DAYS[0]).exit_code == 0
    assert "backfills" in tables(project)
    assert [(record["started_by"], record["status"]) for record in recorded(project)] == [("run", "succeeded")]


@pytest.fixture
def console(project):
    console = Console(project.root)
    yield console
    console.stop()


def test_the_backfills_page_lists_a_cli_backfill_and_its_page_links_its_partitions(project, console):
    break_number(project.file(DAYS[2]))
    assert project.runner("backfill", *RANGE, "--chunk-size", "1").exit_code == 1
    (record,) = recorded(project)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 760})
        page.goto(console.url)
        page.click("nav >> text=Backfills")
        assert page.title() == "Backfills"
        row = page.locator(f'tr[data-backfill="{record["backfill_id"]}"]')
        assert row.locator("td").all_inner_texts()[1:] == ["failed", "cli", f"{DAYS[0]} to {DAYS[-1]}", "4", "3", "1",
                                                           record["backfill_id"][:8]]
        row.locator("a").click()
        page.wait_for_url(f"**/backfills/{record['backfill_id']}")
        links = page.locator("table.backfill-partitions a.partition")
        assert [link.get_attribute("href") for link in links.all()] == [f"/partitions/{day}" for day in DAYS]
        assert page.locator("table.backfill-partitions td.outcome").all_inner_texts() == ["loaded", "loaded", "failed", "loaded"]
        logs = page.locator("table.backfill-invocations a.log")
        assert [link.get_attribute("href") for link in logs.all()] == [
            f"/invocations/{invocation}/log" for invocation in record["invocation_ids"]]
        assert page.locator("button.cancel-backfill").count() == 0  # not this console's: nothing to cancel
        links.nth(2).click()
        page.wait_for_url(f"**/partitions/{DAYS[2]}")


# The console's backfill process waits before its first dbt invocation until the test says go: the
# record is written and the backfill runs, deterministically, when Cancel is pressed.
PAUSED_BUILDS = textwrap.dedent("""
    import os, pathlib, time
    if os.environ.get("PAUSE_READY"):
        import runner.dbt
        ready, go = pathlib.Path(os.environ["PAUSE_READY"]), pathlib.Path(os.environ["PAUSE_GO"])
        build = runner.dbt.Dbt.build_partitions
        def paused(self, *args, **kwargs):
            ready.touch()
            while not go.exists():
                time.sleep(0.02)
            return build(self, *args, **kwargs)
        runner.dbt.Dbt.build_partitions = paused
""")


def test_cancel_on_its_page_stops_the_consoles_backfill_and_it_is_recorded_interrupted(project, tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(PAUSED_BUILDS)
    ready, go = tmp_path / "ready", tmp_path / "go"
    console = Console(project.root, env={"PYTHONPATH": str(tmp_path / "site"), "PAUSE_READY": str(ready),
                                         "PAUSE_GO": str(go)})
    try:
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1280, "height": 760})
            page.goto(console.url)
            token = page.get_attribute('meta[name="console-token"]', "content")
            status, body, _ = console.request("POST", "/api/backfill", json.dumps({"start": DAYS[0], "end": DAYS[-1]}).encode(),
                                              {"X-Console-Token": token, "Content-Type": "application/json"})
            assert status == 202, body
            wait_for(ready.exists)
            (record,) = recorded(project)
            assert (record["status"], record["started_by"]) == ("running", "console")
            page.goto(console.url + "backfills")
            row = page.locator(f'tr[data-backfill="{record["backfill_id"]}"]')
            assert row.locator("td.status").inner_text() == "running (this console's)"
            row.locator("a").click()
            page.wait_for_url(f"**/backfills/{record['backfill_id']}")  # loaded: its script listens for the click
            page.click("button.cancel-backfill")
            page.locator('b.state[data-status="interrupted"]').wait_for(timeout=60_000)  # the board follows the ledger
            page.locator("#cancel-message", has_text="Cancelled: the backfill stopped").wait_for()  # once the runner exited
            assert page.locator("button.cancel-backfill").count() == 0
            # Only a running backfill of this console's: now refused, with the token or without.
            status, body, _ = console.request("POST", f"/api/backfills/{record['backfill_id']}/cancel", b"",
                                              {"X-Console-Token": token})
            assert json.loads(body)["error"].startswith("Refused: only a running backfill launched from this console")
            assert console.request("POST", f"/api/backfills/{record['backfill_id']}/cancel")[0] == 403
    finally:
        go.touch()
        console.stop()
    (record,) = recorded(project)
    assert {key: record[key] for key in ("status", "started_by", "requested", "loaded", "failed")} == {
        "status": "interrupted", "started_by": "console", "requested": 4, "loaded": 0, "failed": 0}
