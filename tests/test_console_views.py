"""The console over time and for everyone (#31 items 5, 6): a health bar per model over ten years,
a range chosen by dragging across it (or with the keyboard), calendars with day numbers and one
calendar where the models agree, no sideways scroll on a phone, and axe-core's accessibility check."""

from __future__ import annotations

import re
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from browser import artifact, chromium
from conftest import Project
from test_console import CELLS, QUERY, Console, break_number, loaded, watch_console  # noqa: F401 (loaded: a fixture)

from runner.console import health, views
from runner.planning import Heatmap
from runner.project import load_project
from runner.state_table import PartitionStatus

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
LAST = date(2018, 1, 5)
FIRST = LAST - timedelta(days=3649)  # ten years: 3,650 partitions
SEGMENTS = "els => els.map(el => [el.dataset.start, el.dataset.end, el.dataset.state, el.getAttribute('aria-label')])"


@pytest.fixture(scope="module")
def decade(template_project, tmp_path_factory):
    """A project defined over ten years, of which four days were loaded (one failed) and a fifth has
    its file: every other day's file never came (late). Its console shows all 3,650 days."""
    root = tmp_path_factory.mktemp("decade") / "project"
    subprocess.run(["cp", "-r", str(template_project), str(root)], check=True)
    settings = root / "dbt_project.yml"
    text = settings.read_text()
    text = re.sub(r'partitions_start_date: "[^"]+"', f'partitions_start_date: "{FIRST}"', text)
    text = re.sub(r'partitions_end_date: "[^"]+"', f'partitions_end_date: "{LAST}"', text)
    settings.write_text(text)
    project = Project(root)
    break_number(project.file("2018-01-03"))
    result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-04")
    assert result.exit_code == 1, result.output
    console = Console(root)
    yield project, console
    console.stop()


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None
    return found


def test_ten_years_are_a_few_segments_per_model_and_a_drag_fills_the_backfill_dates(decade):
    project, console = decade
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = watch_console(page)
        page.goto(console.url)
        assert page.locator("header .meta").inner_text().startswith(f"3650 partitions, {FIRST} to {LAST}")
        # The whole partition's bar: four runs of days, whatever the range's length.
        bar = page.locator('.health-row[data-model="partition"] .seg')
        assert bar.evaluate_all(SEGMENTS) == [
            [str(FIRST), "2017-12-31", "late", f"{FIRST} to 2017-12-31: late (3645 days)"],
            ["2018-01-01", "2018-01-02", "materialized", "2018-01-01 to 2018-01-02: materialized (2 days)"],
            ["2018-01-03", "2018-01-03", "failed", "2018-01-03: failed (1 day)"],
            ["2018-01-04", "2018-01-04", "materialized", "2018-01-04: materialized (1 day)"],
            ["2018-01-05", "2018-01-05", "missing", "2018-01-05: missing (1 day)"],
        ]
        assert [text.strip() for text in bar.all_inner_texts()] == ["L", "✓", "✕", "✓", "·"]  # glyphs, not colour alone
        models = load_project(str(project.root)).models.partitioned
        rows = page.locator(".health-row[data-model]").evaluate_all("els => els.map(el => el.dataset.model)")
        assert rows == ["partition", *models]
        assert page.locator(".track .seg").count() <= 5 * len(rows)  # 3,650 days, a handful of elements
        # A single day's segment is still seen among 3,650.
        assert box(bar.nth(2))["width"] >= 3
        # The axis names the years.
        assert page.locator(".health-axis .tick").all_inner_texts() == [str(year) for year in range(2009, 2018)]
        page.screenshot(path=artifact("console-health-decade.png"), full_page=False)

        # A drag from the last day back past the bar's start: the backfill's dates are the range's.
        track = box(page.locator('.health-row[data-model="partition"] .track'))
        middle = track["y"] + track["height"] / 2
        page.mouse.move(track["x"] + track["width"] - 1, middle)
        page.mouse.down()
        page.mouse.move(track["x"] + track["width"] / 2, middle, steps=4)
        page.mouse.move(track["x"] - 30, middle, steps=4)
        page.mouse.up()
        assert page.locator("#backfill input[name=start]").input_value() == str(FIRST)
        assert page.locator("#backfill input[name=end]").input_value() == str(LAST)
        said = page.locator("#health-pick").inner_text()
        assert said == f"Backfill dates set: {FIRST} to {LAST} (3650 days). Plan it in the backfill form."
        assert page.locator(".track .selection").count() == 1

        # Dragging backwards within the first segment: its days in proportion to the distance.
        late = box(bar.first)
        left, right = late["x"] + late["width"] * 0.25, late["x"] + late["width"] * 0.5
        page.mouse.move(right, middle)
        page.mouse.down()
        page.mouse.move(left, middle, steps=5)
        page.mouse.up()
        expected = [FIRST + timedelta(days=int((x - late["x"]) / late["width"] * 3645)) for x in (left, right)]
        start = date.fromisoformat(page.locator("#backfill input[name=start]").input_value())
        end = date.fromisoformat(page.locator("#backfill input[name=end]").input_value())
        assert abs((start - expected[0]).days) <= 1 and abs((end - expected[1]).days) <= 1, (start, end, expected)
        page.screenshot(path=artifact("console-health-drag.png"), full_page=False)

        # The keyboard: Tab reaches the bar, Enter picks a segment's first day, arrows move, Enter again its last.
        bar.first.focus()
        page.keyboard.press("Enter")
        assert page.locator("#health-pick").inner_text().startswith(f"Start: {FIRST} to 2017-12-31: late (3645 days).")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        assert page.evaluate("() => document.activeElement.dataset.start") == "2018-01-03"
        page.keyboard.press("Enter")
        assert page.locator("#backfill input[name=start]").input_value() == str(FIRST)
        assert page.locator("#backfill input[name=end]").input_value() == "2018-01-03"
        # Only one segment of a bar is in the tab order, and its focus is seen.
        assert bar.evaluate_all("els => els.filter(el => el.tabIndex === 0).length") == 1
        assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") == "solid"
    assert errors == []


def test_calendar_cells_show_their_day_numbers_and_one_calendar_when_the_models_agree(decade):
    project, console = decade
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = watch_console(page)
        page.goto(console.url + "?start=2018-01-01&end=2018-01-31")
        # A failed day whose downstream models were only skipped: the models agree, one calendar.
        assert page.locator("section.heatmap").count() == 1
        cells = page.locator(".grid .cell")
        assert cells.count() == 31
        numbers = cells.evaluate_all("els => els.map(el => getComputedStyle(el, '::before').content)")
        assert numbers == [f'"{day}"' for day in range(1, 32)]
        # Drawn, not only said: the number's box lies within the cell, above its glyph.
        third = page.locator('.grid .cell[data-date="2018-01-03"]')
        assert third.get_attribute("aria-label") == "2018-01-03: failed"
        assert third.inner_text() == "✕"
        # A wall calendar: Monday first, 2018-01-01 a Monday, the 7th a Sunday, the 8th a new week.
        places = {cell.get_attribute("data-date"): cell.get_attribute("style") for cell in cells.all()[:8]}
        assert places["2018-01-01"] == "grid-area:1/1" and places["2018-01-07"] == "grid-area:1/7"
        assert places["2018-01-08"] == "grid-area:2/1"
        page.locator(".heatmap").screenshot(path=artifact("console-calendar-days.png"))
    assert errors == []


def status(day: date, state: str) -> PartitionStatus:
    return PartitionStatus(day, state)


def test_a_model_gets_its_own_calendar_only_where_it_differs(project):
    """Three models: one agrees with the partition, one was only skipped after a failure, one
    differs (stale where the partition failed): only that one gets a calendar of its own."""
    days = [date(2018, 1, 1) + timedelta(days=index) for index in range(3)]
    overall = ["materialized", "failed", "materialized"]
    heatmaps = [
        Heatmap("All nodes", None, [status(d, s) for d, s in zip(days, overall)]),
        Heatmap("a", "a", [status(d, s) for d, s in zip(days, overall)]),
        Heatmap("b", "b", [status(d, s) for d, s in zip(days, ["materialized", "failed", "materialized"])]),
        Heatmap("c", "c", [status(d, s) for d, s in zip(days, ["materialized", "stale", "stale"])]),
    ]
    view = views.build(load_project(str(project.root)), days, heatmaps=heatmaps)
    assert [calendar.key for calendar in view.calendars] == ["partition", "c"]
    # Every model keeps its health bar, a segment per run of one state.
    assert [(bar.key, [(s.state, s.days) for s in bar.segments]) for bar in view.health] == [
        ("partition", [("materialized", 1), ("failed", 1), ("materialized", 1)]),
        ("a", [("materialized", 1), ("failed", 1), ("materialized", 1)]),
        ("b", [("materialized", 1), ("failed", 1), ("materialized", 1)]),
        ("c", [("materialized", 1), ("stale", 2)]),
    ]
    assert view.health[3].segments[1].label == "2018-01-02 to 2018-01-03: stale (2 days)"


def test_ticks_are_the_finest_of_months_quarters_and_years_that_fit():
    def labels(first: date, days: int) -> list[str]:
        return [tick.label for tick in health.ticks([first + timedelta(days=index) for index in range(days)])]

    assert labels(date(2018, 1, 1), 31) == []
    assert labels(date(2018, 1, 1), 365) == ["Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    assert labels(date(2018, 1, 1), 731) == ["Apr", "Jul", "Oct", "2019", "Apr", "Jul", "Oct"]
    assert labels(date(2000, 1, 1), 365 * 30) == [str(year) for year in range(2001, 2030, 3)]  # every third year


def scroll_width(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


def test_at_420_px_nothing_scrolls_sideways_and_the_form_comes_first(decade):
    """The issue's 2,199 px: the job's output and the failed table. Both are on the page here, from a
    backfill of the failed day launched from the page."""
    project, console = decade
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 420, "height": 900})
        errors = watch_console(page)
        page.goto(console.url + "?start=2017-12-01&end=2018-01-05")
        assert scroll_width(page) <= 420
        launch, board = box(page.locator("#launch")), box(page.locator("#board"))
        assert launch["y"] + launch["height"] <= board["y"]  # the form above the board, not at the bottom
        form = page.locator("#backfill")
        form.locator("input[name=start]").fill("2018-01-03")
        form.locator("input[name=end]").fill("2018-01-03")
        page.locator("#plan-button").click()
        page.locator("#plan table").wait_for()
        page.locator("#start-button").click()
        page.locator("#job.failed").wait_for(timeout=180_000)
        assert page.locator("#failures tbody tr").count() == 1
        # The job's text output (lines that are no event), however long its lines: wraps in its box.
        page.evaluate("""() => {
            const job = document.getElementById("job");
            if (!job.querySelector("pre")) {
                job.insertAdjacentHTML("beforeend", "<details open><summary>output</summary><pre tabindex=0></pre></details>");
            }
            job.querySelector("details").open = true;
            job.querySelector("pre").textContent += "\\n" + "/a/very/long/path/".repeat(60);
        }""")
        assert scroll_width(page) <= 420, page.evaluate(
            "() => Array.from(document.querySelectorAll('body *')).filter(el => el.getBoundingClientRect().right > 420)"
            ".slice(0, 5).map(el => el.tagName + '.' + el.className)")
        page.screenshot(path=artifact("console-420px.png"), full_page=True)
        # The 10 years at 420 px too.
        page.goto(console.url)
        assert scroll_width(page) <= 420
    assert errors == []


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": rule["id"], "impact": rule["impact"], "nodes": [node["target"] for node in rule["nodes"]][:5]}
        for rule in results["violations"] if rule["impact"] in ("serious", "critical")
    ]


def test_axe_finds_nothing_serious_on_the_overview_and_a_partition(loaded):  # noqa: F811 (the imported fixture)
    project, console = loaded
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)  # to inject axe
        page = context.new_page()
        page.goto(console.url + QUERY)
        assert page.locator(".grid .cell").evaluate_all(CELLS)  # the board is drawn
        assert axe_violations(page) == []
        page.goto(console.url + "partitions/2018-01-03")
        assert page.locator("table.runs").count() == 1
        assert axe_violations(page) == []
        context.close()
