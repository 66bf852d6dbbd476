"""Chunking, retries, the --only selection and the plan, as tables. Pure logic: no dbt, no warehouse."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from runner.loading import chunked, invocations, retry_transient
from runner.planning import DEFAULT_SELECTION, parse_selection, plan
from runner.project import Project
from runner.states import PartitionStatus

DAYS = [date(2018, 1, 1) + timedelta(days=n) for n in range(10)]


def days(*chunks: list[int]) -> list[list[date]]:
    """Chunks of DAYS, by index."""
    return [[DAYS[n] for n in chunk] for chunk in chunks]


@pytest.mark.parametrize(("sizes", "max_days", "max_bytes", "expected"), [
    pytest.param({}, 3, 250, [], id="no days, no chunks"),
    pytest.param(dict.fromkeys(DAYS[:3], 100), 365, None, days([0, 1, 2]), id="under both limits: one chunk"),
    pytest.param(dict.fromkeys(DAYS[:7], 100), 3, None, days([0, 1, 2], [3, 4, 5], [6]), id="at most max_days"),
    pytest.param(dict.fromkeys(DAYS[:3], 100), 1, None, days([0], [1], [2]), id="one day per chunk"),
    pytest.param(dict.fromkeys(DAYS[:5], 100), 365, 250, days([0, 1], [2, 3], [4]), id="at most max_bytes"),
    pytest.param(dict.fromkeys(DAYS[:4], 100), 365, 200, days([0, 1], [2, 3]), id="exactly max_bytes fits"),
    pytest.param(dict(zip(DAYS[:3], [100, 300, 100], strict=True)), 365, 250, days([0], [1], [2]),
                 id="a day larger than the budget stands alone"),
    pytest.param(dict(zip(DAYS[:3], [300, 100, 100], strict=True)), 365, 250, days([0], [1, 2]),
                 id="a large first day, then the small ones together"),
    pytest.param(dict.fromkeys(DAYS[:5], 10), 2, 1000, days([0, 1], [2, 3], [4]), id="the days limit under a loose budget"),
    pytest.param(dict.fromkeys(DAYS[:3], 0), 2, 1, days([0, 1], [2]), id="empty files weigh nothing"),
    pytest.param(dict.fromkeys(reversed(DAYS[:5]), 100), 2, None, days([0, 1], [2, 3], [4]), id="unsorted input: chunks in date order"),
    pytest.param(dict.fromkeys([DAYS[0], DAYS[4], DAYS[9]], 100), 365, None, days([0, 4, 9]), id="days apart share a chunk"),
])
def test_chunked(sizes, max_days, max_bytes, expected):
    """Days in order, cut into chunks of at most max_days and max_bytes; a day over the budget is a chunk of its own."""
    assert chunked(sizes, max_days, max_bytes) == expected


@pytest.mark.parametrize(("files", "asked", "chunk_size", "chunk_bytes", "expected"), [
    pytest.param({}, [], 365, None, [], id="no dates"),
    pytest.param(dict.fromkeys(range(5), 10), range(5), 2, None, days([0, 1], [2, 3], [4]), id="present files in chunks"),
    pytest.param({0: 10, 1: None, 2: 10}, range(3), 365, None, days([0, 2], [1]), id="a missing file stands alone"),
    pytest.param({0: None, 1: 10, 2: 10}, range(3), 365, None, days([0], [1, 2]), id="a missing first day keeps its place"),
    pytest.param({0: None, 1: None}, range(2), 365, None, days([0], [1]), id="missing files each alone"),
    pytest.param({0: 10, 1: "dir", 2: 10}, range(3), 365, None, days([0, 2], [1]), id="a folder in a file's place stands alone"),
    pytest.param(dict.fromkeys(range(3), 100), range(3), 365, 150, days([0], [1], [2]), id="the bytes are the files' sizes"),
    pytest.param(dict.fromkeys(range(4), 10), [3, 1, 0, 2], 2, None, days([0, 1], [2, 3]), id="unsorted dates: chunks in date order"),
    pytest.param({0: 10}, [0, 0], 365, None, days([0]), id="a day asked twice loads once"),
])
def test_invocations(tmp_path, files, asked, chunk_size, chunk_bytes, expected):
    """The invocations of a load: the present files chunked by count and bytes, each missing file alone."""
    project = Project(tmp_path, tmp_path / "w.duckdb", tmp_path / "l.duckdb", tmp_path / "source")
    project.source_dir.mkdir()
    for n, size in files.items():
        path = project.source_file(DAYS[n])
        if size == "dir":
            path.mkdir()
        elif size is not None:
            path.write_bytes(b"x" * size)
    assert invocations(project, [DAYS[n] for n in asked], chunk_size, chunk_bytes) == expected


LOCK = "IO Error: Could not set lock on file \"/w.duckdb\": Conflicting lock is held in python (PID 12)"


@pytest.mark.parametrize(("errors", "retries", "expected"), [
    pytest.param([None], 2, ("result 1", 1), id="success at once"),
    pytest.param([LOCK, None], 2, ("result 2", 2), id="a lock, then success"),
    pytest.param(["Conflicting lock is held", None], 2, ("result 2", 2), id="conflicting lock"),
    pytest.param(["sqlite3: database is locked", None], 2, ("result 2", 2), id="database is locked"),
    pytest.param(["IO Error: Could not read from file", None], 2, ("result 2", 2), id="an I/O error"),
    pytest.param(["io error: disk hiccup", None], 2, ("result 2", 2), id="any case"),
    pytest.param([LOCK, LOCK, LOCK, None], 2, ("result 3", 3), id="transient until retries run out"),
    pytest.param([LOCK, None], 0, ("result 1", 1), id="no retries"),
    pytest.param(["IO Error: No files found that match the pattern \"/d/2018-01-02.csv\"", None], 2, ("result 1", 1),
                 id="a missing file is not transient"),
    pytest.param(["Conversion Error: Could not convert string 'x' to DECIMAL", None], 2, ("result 1", 1), id="a data error"),
    pytest.param(["raw_partition_data failed: 2 rows", None], 2, ("result 1", 1), id="a failed test"),
    pytest.param([LOCK, "Binder Error: column x not found", None], 3, ("result 2", 2), id="a lock, then a data error"),
])
def test_retry_transient(errors, retries, expected):
    """Tried again after a backoff only while the failure is a lock or an I/O error, at most `retries` more times."""
    waits: list[int] = []

    def attempt():
        waits.append(len(waits))
        return f"result {len(waits)}", errors[len(waits) - 1]

    result, attempts = retry_transient(attempt, retries, lambda tried: 0)
    assert (result, attempts) == expected
    assert len(waits) == attempts


CHOOSE = "choose from materialized, failed, stale, missing or all"


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("missing", {"missing"}, id="one state"),
    pytest.param("failed,stale", {"failed", "stale"}, id="a comma list"),
    pytest.param(" failed , stale ,", {"failed", "stale"}, id="spaces and a trailing comma"),
    pytest.param("failed,failed", {"failed"}, id="a repeat"),
    pytest.param("materialized", {"materialized"}, id="materialized"),
    pytest.param("all", {"materialized", "failed", "stale", "missing"}, id="all"),
    pytest.param("all,failed", {"materialized", "failed", "stale", "missing"}, id="all among states: all"),
    pytest.param(" all ", {"materialized", "failed", "stale", "missing"}, id="all with spaces"),
])
def test_selection_accepted(text, expected):
    """--only takes a comma list of the states a load can act on, or `all` for every one of them."""
    assert parse_selection(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    pytest.param("", f"nothing is not a state to load: {CHOOSE}", id="empty"),
    pytest.param(" , ,", f"nothing is not a state to load: {CHOOSE}", id="only commas"),
    pytest.param("running", f"running is not a state to load: {CHOOSE}", id="running"),
    pytest.param("awaiting", f"awaiting partitions have no file to load yet: {CHOOSE}", id="awaiting"),
    pytest.param("failed,awaiting", f"awaiting partitions have no file to load yet: {CHOOSE}", id="awaiting among others"),
    pytest.param("awaiting,bogus", f"awaiting partitions have no file to load yet: {CHOOSE}", id="awaiting named first"),
    pytest.param("zzz,stale,bogus,mmm,aaa", f"aaa, bogus, mmm, zzz is not a state to load: {CHOOSE}", id="unknown names, sorted"),
    pytest.param("Failed", f"Failed is not a state to load: {CHOOSE}", id="states are lower case"),
])
def test_selection_refused(text, message):
    """Anything else is refused with a message naming what is wrong and what to choose from."""
    with pytest.raises(ValueError) as refused:
        parse_selection(text)
    assert str(refused.value) == message


STATUSES = [
    PartitionStatus(DAYS[0], "materialized", message="OK"),
    PartitionStatus(DAYS[1], "failed", message="raw_partition_data: boom"),
    PartitionStatus(DAYS[2], "stale", message="source file changed since it was loaded"),
    PartitionStatus(DAYS[3], "missing", message="never loaded"),
    PartitionStatus(DAYS[4], "running", message="loading now (loading in runner PID 12)"),
    PartitionStatus(DAYS[5], "awaiting", message="its file has not arrived"),
    PartitionStatus(DAYS[6], "stale"),
]
REASONS = ["OK", "raw_partition_data: boom", "source file changed since it was loaded", "never loaded",
           "loading now (loading in runner PID 12)", "its file has not arrived", "stale"]


@pytest.mark.parametrize(("selection", "expected"), [
    pytest.param(set(DEFAULT_SELECTION), [1, 2, 3, 6], id="the default: missing, failed, stale"),
    pytest.param(parse_selection("all"), [0, 1, 2, 3, 6], id="all: never running or awaiting"),
    pytest.param({"failed"}, [1], id="failed only"),
    pytest.param({"materialized"}, [0], id="materialized only"),
    pytest.param(set(), [], id="nothing selected"),
])
def test_plan(selection, expected):
    """The partitions in the selected states, in order, each with its message as the reason (its state when it has none)."""
    assert [(item.partition_date, item.state, item.reason) for item in plan(STATUSES, selection)] == [
        (DAYS[n], STATUSES[n].state, REASONS[n]) for n in expected]


def test_this_module_needs_no_dbt():
    """Chunking, retries and the plan's tests import no dbt (a fresh interpreter: the suite's conftest does)."""
    code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import {Path(__file__).stem}; " \
           "print(sorted({name.split('.')[0] for name in sys.modules if name.startswith('dbt')}))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"
