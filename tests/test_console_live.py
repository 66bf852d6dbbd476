"""runner ui, live: a launch shows at once and follows its events to the summary, a load by any other
process shows within a second, and a partition's page loads it again. Real dbt, DuckDB and Chromium."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

from browser import artifact, chromium
from playwright.sync_api import expect
from test_console import Console, watch_console

FIVE_DAYS = "?start=2018-01-01&end=2018-01-05"
STATES = "els => els.map(el => el.dataset.state)"
NOT_STARTED = re.compile(r"^(?!.*started)")


def cursor(console: Console) -> str:
    status, body, _ = console.request("GET", "/changes")
    assert status == 200, body
    return json.loads(body)["cursor"]


def aside_top(page) -> float:
    return page.evaluate("() => document.querySelector('aside#launch').getBoundingClientRect().top + window.scrollY")


def test_a_launch_shows_its_partitions_queued_within_a_second_and_its_banner_ends_with_the_summary(project):
    console = Console(project.root)
    try:
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            errors = watch_console(page)
            page.goto(console.url + FIVE_DAYS)
            page.evaluate("() => { window.notReloaded = true; }")
            assert set(page.locator(".grid .cell").evaluate_all(STATES)) == {"missing"}
            form = page.locator("#backfill")
            form.locator('input[name="chunk_size"]').fill("2")
            form.locator('input[name="end"]').fill("2018-01-05")
            before = aside_top(page)
            page.locator("#plan-button").click()
            page.locator("#launch-message", has_text="5 partitions would run in 3 dbt invocation(s)").wait_for(timeout=120_000)
            # The plan is never clipped: every cell of its table lies inside its box.
            assert page.evaluate("""() => {
                const box = document.querySelector('#plan').getBoundingClientRect();
                return Array.from(document.querySelectorAll('#plan td')).every(td => td.getBoundingClientRect().right <= box.right + 0.5);
            }""")

            page.locator("#start-button").click()
            # Within a second of the click: the planned partitions show queued (running once dbt starts).
            started = time.monotonic()
            page.locator('.grid .cell[data-state="queued"], .grid .cell[data-state="running"]').first.wait_for(timeout=1000)
            assert time.monotonic() - started < 1.0
            shown = dict(zip(page.locator(".grid .cell").evaluate_all("els => els.map(el => el.dataset.date)"),
                             page.locator(".grid .cell").evaluate_all(STATES)))
            assert set(shown.values()) <= {"queued", "running", "materialized"}, shown
            banner = page.locator("#launch-message .banner")
            assert banner.inner_text().startswith("Backfill started (runner PID ")
            assert aside_top(page) == before  # the sidebar stays where it was
            page.screenshot(path=artifact("console-launch-queued.png"), full_page=True)

            # The banner follows the job's events, then ends with its summary and exit code: never
            # "started" once the run has finished.
            expect(banner).to_have_text(re.compile(r"^Backfill finished \(exit code 0\): 5 loaded, 0 failed in "), timeout=300_000)
            expect(banner).to_have_text(NOT_STARTED)
            page.wait_for_function(
                "() => Array.from(document.querySelectorAll('.grid .cell')).every(c => c.dataset.state === 'materialized')",
                timeout=30_000,
            )
            assert aside_top(page) == before
            assert page.evaluate("() => window.notReloaded") is True
        assert errors == []
    finally:
        console.stop()


def test_a_load_by_another_process_shows_within_a_second_of_its_end(project):
    result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-02")
    assert result.exit_code == 0, result.output
    console = Console(project.root)
    try:
        # Reading changes nothing the cursor watches: an idle page fetches nothing but the cursor.
        for _ in range(2):  # (a second try if the minute turned in between)
            first = cursor(console)
            assert console.request("GET", "/fragments/board" + FIVE_DAYS)[0] == 200
            assert console.request("GET", "/partitions/2018-01-02/fragment")[0] == 200
            if cursor(console) == first:
                break
        else:
            raise AssertionError("the cursor moves on a read")
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            errors = watch_console(page)
            fetched = []
            page.on("request", lambda request: fetched.append(request.url) if "/fragments/" in request.url else None)
            page.goto(console.url + FIVE_DAYS)
            page.evaluate("() => { window.notReloaded = true; }")
            day = page.locator('.grid .cell[data-date="2018-01-04"]')
            expect(day).to_have_attribute("data-state", "missing")
            done = subprocess.run(
                [sys.executable, "-m", "runner", "--project-dir", str(project.root), "backfill", "--start", "2018-01-04",
                 "--end", "2018-01-04"],
                cwd=project.root, capture_output=True, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            ended = time.monotonic()
            page.locator('.grid .cell[data-date="2018-01-04"][data-state="materialized"]').wait_for(timeout=1000)
            assert time.monotonic() - ended < 1.0
            assert done.returncode == 0, done.stderr
            assert fetched, "the board was never fetched again"
            assert page.evaluate("() => window.notReloaded") is True
        assert errors == []
    finally:
        console.stop()


def test_load_again_plans_that_partition_then_loads_it_on_start(project):
    result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-02")
    assert result.exit_code == 0, result.output
    console = Console(project.root)
    try:
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors = watch_console(page)
            page.goto(console.url + "partitions/2018-01-02")
            assert page.locator(".now").get_attribute("data-state") == "materialized"
            runs = page.locator("tbody.run")
            expect(runs).to_have_count(1)
            first = runs.first.get_attribute("data-invocation")

            page.locator("#plan-button", has_text="Load again").click()
            # Asked first: the plan (this day, whatever its state), then Start.
            expect(page.locator("#launch-message .answer")).to_have_text(
                "1 partitions would run in 1 dbt invocation(s) (dry run: nothing changed)", timeout=120_000)
            expect(page.locator("#plan tr")).to_have_count(1)
            assert page.locator("#plan tr td").all_inner_texts()[:2] == ["2018-01-02", "materialized"]
            expect(runs).to_have_count(1)  # nothing ran yet

            page.locator("#start-button").click()
            page.locator('.now[data-state="queued"], .now[data-state="running"]').wait_for(timeout=1000)
            banner = page.locator("#launch-message .banner")
            expect(banner).to_have_text(re.compile(r"^Backfill finished \(exit code 0\): 1 loaded, 0 failed in "), timeout=300_000)
            # The new run, newest first, with no reload.
            expect(runs.first).not_to_have_attribute("data-invocation", first, timeout=30_000)
            expect(runs.first.locator(".outcome")).to_have_text("success", timeout=30_000)
            expect(page.locator(f'tbody.run[data-invocation="{first}"]')).to_have_count(1)
            expect(page.locator(".now")).to_have_attribute("data-state", "materialized")
            page.screenshot(path=artifact("console-load-again.png"), full_page=True)
        assert errors == []
    finally:
        console.stop()
    history = json.loads(project.runner("history", "2018-01-02", "--json", catch=False).output)
    assert len(history) == 2 and history[1]["invocation_id"] == first, json.dumps(history, indent=1)
    assert {node["status"] for node in history[0]["nodes"]} <= {"success", "pass", "no-op"}
