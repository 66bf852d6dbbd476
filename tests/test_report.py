"""runner report: the partition status page, opened in headless Chromium and checked against runner status."""

from __future__ import annotations

from browser import artifact, chromium

from runner.project import load_project

CELLS = """section => Array.from(section.querySelectorAll('.grid .cell'), cell => [cell.dataset.date, cell.dataset.state])"""


def test_report_help(project):
    result = project.runner("report", "--help", catch=False)
    assert result.exit_code == 0
    assert " ".join(result.output.split("\nOptions:\n", 1)[1].split()) == (
        "--start DATE First partition, included (default: the defined start). "
        "--end DATE Last partition, included (default: partitions_end_date, else the last complete day: yesterday, "
        "moved by partitions_end_offset). "
        "--source-dir DIRECTORY Folder of the daily files (default: the source_dir var of dbt_project.yml). "
        "--out FILE The HTML file to write, in an existing folder "  # as the README says
        "(default: target/partition_status.html in the project). "
        "--help Show this message and exit.")


def break_price(path) -> None:
    """A non-number in the first row's close price (the share_price column)."""
    lines = path.read_text().splitlines()
    fields = lines[1].split(",")
    fields[1] = "12.5x"
    lines[1] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")


def test_report_shows_each_models_partitions_as_status_does(project, tmp_path, monkeypatch):
    monkeypatch.setenv("RUNNER_NOW", "2018-01-07T06:15:00Z")  # 06 and 07 not yet late
    break_price(project.file("2018-01-03"))
    result = project.runner("backfill", "--start", "2018-01-01", "--end", "2018-01-04")
    assert result.exit_code == 1, result.output
    project.file("2018-01-02").write_text(project.file("2018-01-02").read_text() + "\n")  # changed since: stale
    span = ("--start", "2018-01-01", "--end", "2018-01-07")  # 05 has a file: missing; 06 and 07 none: awaiting
    expected = {"partition": project.status(*span)}
    models = load_project(str(project.root)).models.partitioned
    expected |= {model: project.status(*span, "--model", model) for model in models}
    assert [entry["state"] for entry in expected["partition"].values()] == [
        "materialized", "stale", "failed", "materialized", "missing", "awaiting", "awaiting"
    ]

    out = tmp_path / "status.html"
    result = project.runner("report", *span, "--out", str(out), catch=False)
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {out}: 7 partitions x 3 models; 2 materialized, 1 failed, 1 stale, 1 missing, 2 awaiting\n"

    requests = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda request: requests.append(request.url))
        page.goto(out.as_uri())
        # One calendar: each model agrees with the partition, except that the models downstream of the
        # failed staging model were skipped (status --model says failed), so none is drawn apart.
        sections = page.locator("section.heatmap")
        assert sections.evaluate_all("all => all.map(section => section.dataset.model)") == ["partition"]
        for model in models:
            assert [e["state"] for e in expected[model].values()] == [e["state"] for e in expected["partition"].values()], model
        cells = sections.first.evaluate(CELLS)
        assert dict(cells) == {day: entry["state"] for day, entry in expected["partition"].items()}
        assert len(cells) == 7
        assert page.locator(".legend").text_content().split() == ["✓", "2", "materialized", "✕", "1", "failed", "~", "1", "stale",
                                                                 "·", "1", "missing", "↻", "0", "running", "_", "2", "awaiting",
                                                                 "L", "0", "late"]

        # The details panel says nothing until a partition is hovered.
        details = page.locator("#details")
        assert not details.locator("dl").is_visible()
        assert details.locator(".hint").is_visible()
        # Hover shows a partition's last run.
        loaded = expected["partition"]["2018-01-01"]
        page.locator('section[data-model="partition"] .cell[data-date="2018-01-01"]').hover()
        assert details.locator('[data-field="state"]').inner_text() == "materialized"
        assert details.locator('[data-field="rows"]').inner_text() == str(loaded["rows"]) == "20"
        assert details.locator('[data-field="invocation_id"]').inner_text() == loaded["invocation_id"]

        # Click pins the failed day: its time, duration, message and invocation.
        failed = expected["partition"]["2018-01-03"]
        page.locator('section[data-model="partition"] .cell[data-date="2018-01-03"]').click()
        page.mouse.move(5, 5)
        assert details.locator('[data-field="partition_date"]').inner_text() == "2018-01-03"
        assert details.locator('[data-field="state"]').inner_text() == "failed"
        message = details.locator('[data-field="message"]').inner_text()
        assert message == failed["message"].replace(f"{project.root}/", "")  # paths from the project's folder
        assert "unparseable number" in message and "12.5x" in message
        assert details.locator('[data-field="invocation_id"]').inner_text() == failed["invocation_id"]
        assert details.locator('[data-field="last_run_at"]').inner_text() == failed["last_run_at"].replace("T", " ")
        assert details.locator('[data-field="duration_seconds"]').inner_text() == f"{failed['duration_seconds']} s"

        # The list of failures: the one failed partition, with its message.
        rows = page.locator("#failures tbody tr")
        assert rows.count() == 1
        assert rows.first.get_attribute("data-date") == "2018-01-03"
        assert "12.5x" in rows.first.inner_text() and failed["invocation_id"] in rows.first.inner_text()
        page.screenshot(path=artifact("status-page.png"), full_page=True)

    assert [url for url in requests if url != out.as_uri()] == []  # self-contained: nothing fetched


def test_report_renders_a_year_and_stays_readable_for_years(project, tmp_path):
    # Speed is for bench/, not for tests: this checks a year and five years render whole and fit.
    out = tmp_path / "year.html"
    result = project.runner("report", "--start", "2018-01-01", "--end", "2018-12-31", "--out", str(out), catch=False)
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {out}: 365 partitions x 3 models; 0 materialized, 0 failed, 0 stale, 5 missing, 360 late\n"
    years = tmp_path / "years.html"
    result = project.runner("report", "--start", "2016-01-01", "--end", "2020-12-31", "--out", str(years), catch=False)
    assert "1827 partitions x 3 models" in result.output

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(out.as_uri())
        assert page.locator(".grid .cell").count() == 365

        # Five years: a calendar strip per year, one after the other; every year fits the width.
        page.goto(years.as_uri())
        section = page.locator("section.heatmap")
        assert section.count() == 1
        assert section.locator(".grid .cell").count() == 1827
        assert section.locator(".year-label").all_inner_texts() == ["2016", "2017", "2018", "2019", "2020"]
        assert section.locator(".months span").count() == 5 * 12
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
        page.locator('section[data-model="partition"] .cell[data-date="2020-12-31"]').hover()
        assert page.locator('#details [data-field="message"]').inner_text() == "its file has not arrived (past its deadline)"
        assert page.locator('#details [data-field="invocation_id"]').inner_text() == "-"
