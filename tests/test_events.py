"""`runner backfill --json-lines`: one event stream (runner/events.py), one JSON object per line as
it happens: the plan, each dbt invocation as it starts, each partition's outcome, the summary."""

from __future__ import annotations

import json

from conftest import Project

SPAN = ("--start", "2018-01-01", "--end", "2018-01-03")


def break_number(project: Project, day: str) -> None:
    """A non-number in the first row's share_price: the partition fails."""
    lines = project.file(day).read_text().splitlines()
    fields = lines[1].split(",")
    fields[1] = "abc"
    lines[1] = ",".join(fields)
    project.file(day).write_text("\n".join(lines) + "\n")


def events_of(result) -> list[dict]:
    """Every line of stdout is one JSON object with an `event` field."""
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(isinstance(event, dict) and "event" in event for event in events)
    return events


def test_a_backfill_streams_its_plan_chunks_loads_and_summary(project):
    break_number(project, "2018-01-02")
    dry = project.runner("backfill", *SPAN, "--chunk-size", "2", "--dry-run", "--json-lines")
    planned = project.runner("backfill", *SPAN, "--chunk-size", "2", "--dry-run", "--json")
    assert dry.exit_code == planned.exit_code == 0, dry.output
    (plan,) = events_of(dry)  # a dry run: the plan alone, as --dry-run --json has it
    assert plan["event"] == "plan" and plan["partitions"] == json.loads(planned.stdout)
    assert [(p["partition_date"], p["invocation"]) for p in plan["partitions"]] == [
        ("2018-01-01", 1), ("2018-01-02", 1), ("2018-01-03", 2)]

    result = project.runner("backfill", *SPAN, "--chunk-size", "2", "--json-lines")
    assert result.exit_code == 1, result.output
    events = events_of(result)
    assert [event["event"] for event in events] == [
        "plan", "chunk", "chunk", "load", "chunk", "load", "chunk", "load", "summary"]
    assert events[0] == plan
    # The first chunk fails on 2018-01-02 and is split, so that 2018-01-01 still loads.
    chunks = [(event["invocation"], event["partitions"], event["rerun"]) for event in events if event["event"] == "chunk"]
    assert chunks == [(1, ["2018-01-01", "2018-01-02"], False), (2, ["2018-01-01"], True), (3, ["2018-01-02"], True),
                      (4, ["2018-01-03"], False)]
    loads = {event["partition_date"]: event for event in events if event["event"] == "load"}
    states = {day: entry["state"] for day, entry in project.status(*SPAN).items()}
    assert {day: event["outcome"] for day, event in loads.items()} == {
        "2018-01-01": "loaded", "2018-01-02": "failed", "2018-01-03": "loaded"}
    assert states == {"2018-01-01": "materialized", "2018-01-02": "failed", "2018-01-03": "materialized"}
    assert "unparseable number" in loads["2018-01-02"]["message"] and loads["2018-01-01"]["rows"] == 20
    summary = events[-1]
    assert {key: summary[key] for key in ("loaded", "failed", "not_run", "interrupted", "exit_code")} == {
        "loaded": 2, "failed": 1, "not_run": 0, "interrupted": False, "exit_code": 1}
    assert summary["wall_seconds"] >= summary["seconds"] > 0

    # watch --json's load events have the same shape (it loads the failed day again, and the days
    # after the span: the defined range).
    watched = project.runner("watch", "--once", "--json")
    assert watched.exit_code == 1, watched.output
    again = {event["partition_date"]: event for event in events_of(watched) if event["event"] == "load"}
    assert {day: event["outcome"] for day, event in again.items()} == {
        "2018-01-02": "failed", "2018-01-04": "loaded", "2018-01-05": "loaded"}
    assert {frozenset(event) for event in [*again.values(), *loads.values()]} == {frozenset(loads["2018-01-01"])}

    # Nothing left to do: the plan (empty) and the summary, exit 0.
    nothing = project.runner("backfill", *SPAN, "--only", "missing", "--json-lines")
    assert nothing.exit_code == 0, nothing.output
    plan, summary = events_of(nothing)
    assert (plan["event"], plan["partitions"], plan["total"]) == ("plan", [], 3)
    assert (summary["event"], summary["loaded"], summary["failed"], summary["exit_code"]) == ("summary", 0, 0, 0)


def test_json_lines_refuses_json_and_bad_settings_with_exit_2(project):
    both = project.runner("backfill", "--json", "--json-lines")
    assert both.exit_code == 2 and both.stdout == ""
    assert both.stderr.splitlines()[-1] == "Error: --json prints one document at the end, --json-lines each event: choose one"
    bad = project.runner("backfill", "--json-lines", "--retries", "-1")
    assert bad.exit_code == 2 and bad.stdout == ""
    assert bad.stderr.splitlines()[-1] == "Error: Invalid value for '--retries': -1 is not in the range x>=0."
    assert not project.warehouse.exists() and not project.ledger.exists()
