"""The documentation's example outputs are what the commands print: every block of README.md and
docs/*.md that shows `$ runner ...` lines is read from the document itself, its commands are run as
written (the installed `runner`, in a project holding the repository's sample files, after the setup
the example assumes) and each output is compared line for line with the document's.

What truly varies is masked, on both sides, by the named normalisers below: when a run happened,
how long it took, its invocation id and the temporary folder. A shown line `...` stands for lines
the example leaves out, and a line ending in ` ...` for the rest of that line; everything else is
exact."""

from __future__ import annotations

import difflib
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import REPO
from documents import documentation, the_one_saying

RUNNER = str(Path(sys.executable).with_name("runner"))
SAMPLE_FILES = REPO / "data" / "source"


def examples() -> dict[str, list[tuple[str, str]]]:
    """Every block of commands with their output, in the README and docs/, by its first command:
    [(command, output)]."""
    blocks = re.findall(r"^```\n(\$ .*?)^```$", documentation(), flags=re.MULTILINE | re.DOTALL)
    found = {}
    for block in blocks:
        pairs = [(part.split("\n", 1)[0], part.split("\n", 1)[1]) for part in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]]
        found[pairs[0][0]] = pairs
    return found


def block_after(lead: str) -> str:
    """The body of the first ``` block after the words `lead`, in the one document that says them."""
    text = the_one_saying(lead)
    return re.search(r"^```\w*\n(.*?)^```$", text[text.index(lead):], flags=re.MULTILINE | re.DOTALL)[1]


def commands(block: str) -> list[list[str]]:
    """A shell block's commands, each split as the shell would, its comment dropped."""
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]


def in_the_venv(command: list[str]) -> list[str]:
    """`.venv/bin/NAME` as the documents write it: the venv these tests run in."""
    head = command[0]
    return [str(Path(sys.executable).with_name(head.removeprefix(".venv/bin/"))) if head.startswith(".venv/bin/") else head,
            *command[1:]]


# Normalisers: what differs from one run to the next, masked the same way in the documents and in the output.

def mask_the_folder(text: str, project) -> str:
    """The source folder's absolute path is the temporary project's; the documents write `/.../`."""
    return text.replace(f"{project.source_dir}/", "/.../")


def mask_timestamps(text: str) -> str:
    """When a run happened (`2026-12-01 20:35:03`)."""
    return re.sub(r"\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\b", "<when>", text)


def mask_invocation_ids(text: str) -> str:
    """dbt's invocation ids: whole in `history`, their first 8 characters after the time in `status`."""
    text = re.sub(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "<invocation>", text)
    return re.sub(r"(<when>  )[0-9a-f]{8}\b", r"\1<invocation>", text)


def mask_durations(text: str) -> str:
    """How long something took (`1.4s`, `0.71s`): the seconds masked, the decimals shown kept."""
    return re.sub(r"\b\d+\.(\d+)s\b", lambda match: "#." + "#" * len(match[1]) + "s", text)


def squeeze_padding(text: str) -> str:
    """`status` pads its columns to their widest cell, whose width varies with the durations: runs of
    spaces become two (that the columns line up is checked apart, by columns_line_up)."""
    return re.sub(r" {2,}", "  ", text)


def masked(text: str, project, command: str) -> str:
    text = mask_durations(mask_invocation_ids(mask_timestamps(mask_the_folder(text, project))))
    return squeeze_padding(text) if shlex.split(command)[1] == "status" else text


def as_pattern(expected: str) -> re.Pattern:
    """The documented output as a pattern: each line exact but for its elisions. `...` on a line of its
    own stands for any lines indented as deep as it is (a run's nodes, never a run)."""
    parts = []
    for line in expected.splitlines():
        if line.strip() == "...":
            indent = line[: line.index("...")]
            assert indent, "an unindented ... would stand for whole runs"
            parts.append(rf"(?:{re.escape(indent)}[^\n]*\n)*?")
        elif line.endswith(" ..."):
            parts.append(re.escape(line[: -len("...")]) + r"[^\n]*\n")
        else:
            parts.append(re.escape(line) + r"\n")
    return re.compile("".join(parts))


def columns_line_up(output: str) -> bool:
    """`status`'s table: every row's cells start where the header's column names do."""
    lines = output.splitlines()
    top = next(index for index, line in enumerate(lines) if line.startswith("partition_date"))
    starts = [match.start() for match in re.finditer(r"\S+", lines[top])][1:]
    rows = [line for line in lines[top + 1:] if re.match(r"\d{4}-\d\d-\d\d  ", line)]
    return bool(rows) and all(row[start - 2:start] == "  " and row[start] != " " for row in rows for start in starts)


# The setups the examples assume, on the repository's sample files.

def edit(project, day: str, row: int, **values: str) -> None:
    """Set columns of one data row (1 is the first after the header) of a day's file, the rest byte for byte."""
    path = project.file(day)
    lines = path.read_text().split("\n")
    names = [name.strip('"') for name in lines[0].split(",")]
    cells = lines[row].split(",")
    for name, value in values.items():
        cells[names.index(name)] = value
    lines[row] = ",".join(cells)
    path.write_text("\n".join(lines))


def runs(project, *args: str, exit_code: int) -> None:
    result = project.runner(*args)
    assert result.exit_code == exit_code, result.output


def a_bad_number_on_the_third(project) -> None:
    """2018-01-03's first share_price is `ten`."""
    edit(project, "2018-01-03", 1, share_price="ten")


def a_warned_chunk_and_a_failed_day(project) -> None:
    """2018-01-05 loaded alone; 2018-01-01 to 04 loaded in one chunk, two of 2018-01-03's rows dated
    months away (a warning); then 2018-01-05 with a bad number run again: failed, its 20 rows kept.
    2018-01-06 has its file and was never loaded."""
    runs(project, "run", "2018-01-05", exit_code=0)
    edit(project, "2018-01-03", 2, date="2018-10-01")
    edit(project, "2018-01-03", 3, date="2017-06-01")
    runs(project, "backfill", "--start", "2018-01-01", "--end", "2018-01-05", exit_code=0)
    edit(project, "2018-01-05", 1, share_price="ten")
    runs(project, "run", "2018-01-05", exit_code=1)


def a_failed_run_then_a_warned_one(project) -> None:
    """2018-01-03 run with a row dated months away that traded -5000 (it fails), then with that row's
    own volume and a second row dated months away (it loads, with a warning)."""
    original = project.file("2018-01-03").read_text()
    edit(project, "2018-01-03", 2, date="2018-10-01", amount="-5000")
    runs(project, "run", "2018-01-03", exit_code=1)
    project.file("2018-01-03").write_text(original)
    edit(project, "2018-01-03", 2, date="2018-10-01")
    edit(project, "2018-01-03", 3, date="2017-06-01")
    runs(project, "run", "2018-01-03", exit_code=0)


# Each example by its first command: the setup it assumes, and the exit code of each of its commands.
SCENARIOS = {
    "runner backfill --start 2018-01-01 --end 2018-01-05 --chunk-size 1": (a_bad_number_on_the_third, [1, 0]),
    "runner status --start 2018-01-01 --end 2018-01-06": (a_warned_chunk_and_a_failed_day, [0]),
    "runner history 2018-01-03": (a_failed_run_then_a_warned_one, [0]),
}


@pytest.fixture
def sample(project):
    """The test project with the repository's sample files, the ones the documented examples show."""
    shutil.rmtree(project.source_dir)
    shutil.copytree(SAMPLE_FILES, project.source_dir)
    return project


def test_every_example_of_the_readme_is_run():
    """A block of commands and output, in the README or in docs/, that this file does not run fails here."""
    assert sorted(examples()) == sorted(SCENARIOS)


@pytest.mark.parametrize("first", list(SCENARIOS))
def test_the_readme_example_is_what_the_commands_print(sample, first):
    """Each command of the example, run as written after its setup, prints the documented output."""
    setup, exit_codes = SCENARIOS[first]
    example = examples()[first]
    assert len(example) == len(exit_codes)
    setup(sample)
    for (command, expected), exit_code in zip(example, exit_codes, strict=True):
        argv = shlex.split(command)
        assert argv[0] == "runner"
        done = subprocess.run([RUNNER, *argv[1:]], cwd=sample.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=300)
        assert done.returncode == exit_code, done.stdout
        output, shown = masked(done.stdout, sample, command), masked(expected, sample, command)
        assert as_pattern(shown).fullmatch(output), "\n".join(
            difflib.unified_diff(shown.splitlines(), output.splitlines(), "documented", f"$ {command}", lineterm=""))
        if argv[1] == "status":
            assert columns_line_up(expected) and columns_line_up(done.stdout)


def test_the_partitions_the_readme_shows_are_the_projects():
    """"The partitions are defined once, in dbt_project.yml": the vars docs/partitions.md shows are the file's."""
    shown = yaml.safe_load(block_after("The partitions are defined once"))
    assert shown["vars"] == yaml.safe_load((REPO / "dbt_project.yml").read_text())["vars"]


def test_make_run_backfills_the_sample_partitions_and_prints_their_status(sample):
    """The README's `make run` (its first block), the install step left out (STAMP=) and the runner
    that of these tests' venv: every sample partition loads, and the status says so."""
    (command,) = [command for command in commands(block_after("# Daily partitions")) if command[:2] == ["make", "run"]]
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(REPO / name, sample.root)
    # Under `make test` this make is a sub-make: without --no-print-directory it would end with
    # "make[1]: Leaving directory ...".
    done = subprocess.run([*command, "--no-print-directory", "STAMP=", f"BIN={Path(sys.executable).parent}"],
                          cwd=sample.root, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "31 materialized, 0 failed, 0 stale, 0 missing"


def test_plain_dbt_as_the_readme_writes_it(sample):
    """"Plain dbt works as usual": docs/model.md's two dbt commands, as written, pass, and `runner status`
    then records the hand build: 2018-01-22 materialized with its 20 rows."""
    for command in commands(block_after("Plain dbt works as usual")):
        done = subprocess.run(in_the_venv(command), cwd=sample.root, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout
    entry = sample.status("--start", "2018-01-22", "--end", "2018-01-22")["2018-01-22"]
    assert (entry["state"], entry["rows"]) == ("materialized", 20)


def test_the_readmes_severity_override_makes_every_check_warn(sample):
    """The dbt_project.yml lines of docs/checks.md for "every check warns": a file that fails a blocking check
    fails without them, and with them loads, materialized, with that check's warning."""
    edit(sample, "2018-01-22", 2, amount="-5000")
    runs(sample, "run", "2018-01-22", exit_code=1)
    project_yml = sample.root / "dbt_project.yml"
    project_yml.write_text(project_yml.read_text() + block_after("for a whole folder or project in"))

    runs(sample, "run", "2018-01-22", exit_code=0)

    entry = sample.status("--start", "2018-01-22", "--end", "2018-01-22")["2018-01-22"]
    assert (entry["state"], [warning["check"] for warning in entry["warnings"]]) == (
        "materialized", ["volume_is_not_negative"])


def test_the_readmes_ledger_query_runs_as_written(sample):
    """The SQL on the ledger in docs/runner.md ("Query it with SQL"), as written: it prints each partition's
    records by status, the ones the ledger holds."""
    runs(sample, "backfill", "--start", "2018-01-01", "--end", "2018-01-02", exit_code=0)
    (command,) = commands(block_after("Query it with SQL"))

    done = subprocess.run(in_the_venv(command), cwd=sample.root, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    printed = re.findall(r"│ (\d{4}-\d\d-\d\d) +│ (\S+) +│ +(\d+) │", done.stdout)
    with duckdb.connect(str(sample.ledger), read_only=True) as ledger:
        held = ledger.execute("select partition_date::varchar, status, count(*)::varchar from partition_runs group by all").fetchall()
    assert sorted(printed) == sorted(held) and {day for day, _, _ in printed} == {"2018-01-01", "2018-01-02"}


def bash(block: str, project) -> subprocess.CompletedProcess:
    """A documented shell block run as written, by bash in the project folder, stopping at a failing line."""
    return subprocess.run(["bash", "-e", "-c", block], cwd=project.root, capture_output=True, text=True, timeout=600)


def said_in_comments(block: str) -> list[re.Pattern]:
    """The lines a block's comments quote (`"1 loaded, 0 failed in ..."`), `...` standing for the rest."""
    quoted = re.findall(r'"([^"]+)"', "\n".join(line.split(" # ", 1)[1] for line in block.splitlines() if " # " in line))
    return [re.compile("^" + re.escape(text).replace(re.escape("..."), ".*") + "$", re.MULTILINE) for text in quoted]


def test_the_tour_makes_the_examples_bad_day_and_puts_it_right(sample):
    """"A five-minute tour" as written, in bash, the project's .venv being these tests' own: its first
    block makes exactly the bad day the backfill example assumes (a_bad_number_on_the_third), on which
    the example's backfill fails; its last block, in the same shell (the venv activated), puts the file
    back byte for byte, prints what its comments quote and leaves the month materialized."""
    (sample.root / ".venv").symlink_to(Path(sys.executable).parent.parent)
    original = sample.file("2018-01-03").read_text()
    a_bad_number_on_the_third(sample)
    spoiled = sample.file("2018-01-03").read_text()
    sample.file("2018-01-03").write_text(original)

    first = block_after("## A five-minute tour")
    made = bash(first, sample)

    assert made.returncode == 0, made.stderr
    assert sample.file("2018-01-03").read_text() == spoiled
    runs(sample, "backfill", "--start", "2018-01-01", "--end", "2018-01-05", "--chunk-size", "1", exit_code=1)

    block = block_after("Put the file right")
    same_shell = [line for line in first.splitlines() if line.startswith("source ")]  # the tour's one shell
    put_right = bash("\n".join([*same_shell, block]), sample)

    assert put_right.returncode == 0, put_right.stdout + put_right.stderr
    assert sample.file("2018-01-03").read_text() == original
    expected = said_in_comments(block)
    assert len(expected) == 3 and all(pattern.search(put_right.stdout) for pattern in expected), put_right.stdout
    entries = sample.status()
    assert len(entries) == 31 and {entry["state"] for entry in entries.values()} == {"materialized"}


def test_an_impossible_date_in_vars_fails_as_the_readme_says(sample):
    """docs/model.md's quoted `--vars` date that is not one: dbt exits 2 with the message its comment
    quotes; the same date unquoted is YAML's traceback and exit 1, as it says."""
    block = block_after("and dbt exits 2:")
    (command,) = commands(block)
    (message,) = [line.split(" # ", 1)[1] for line in block.splitlines() if " # " in line]

    quoted = subprocess.run(in_the_venv(command), cwd=sample.root, capture_output=True, text=True, timeout=300)
    unquoted = subprocess.run(in_the_venv([part.replace('"2018-02-30"', "2018-02-30") for part in command]),
                              cwd=sample.root, capture_output=True, text=True, timeout=300)

    assert quoted.returncode == 2 and message.strip() in quoted.stdout, quoted.stdout
    assert unquoted.returncode == 1 and unquoted.stderr.splitlines()[-1] == "ValueError: day is out of range for month"


def test_the_marts_clear_their_partitions_then_delete_insert_as_the_readme_says(project):
    """What docs/model.md says of the strategy is the parsed project's: on DuckDB each mart is
    incremental by delete+insert on partition_date, after its pre-hook `clear_partitions()`, whose
    DuckDB form deletes the run's partitions whole."""
    from dbt.cli.main import dbtRunner

    parsed = dbtRunner().invoke(["parse", "--project-dir", str(project.root), "--profiles-dir", str(project.root),
                                 "--log-level", "none"])
    assert parsed.success, parsed.exception
    manifest = parsed.result
    marts = {node.name: node.config for node in manifest.nodes.values()
             if node.resource_type == "model" and node.fqn[1] == "marts"}
    assert set(marts) == {"raw_partition_data", "daily_summary"}
    for config in marts.values():
        assert (config.materialized, config.incremental_strategy, config.unique_key) == ("incremental", "delete+insert",
                                                                                          "partition_date")
        assert [hook.sql for hook in config.pre_hook] == ["{{ clear_partitions() }}"]
    clear = manifest.macros["macro.daily_loads.default__clear_partitions"].macro_sql
    assert re.search(r"if is_incremental\(\).*delete from \{\{ this \}\} where \{\{ partition_predicate\(\) \}\}", clear, re.DOTALL)
    said = " ".join(documentation().split())
    assert ("incremental with `incremental_strategy='delete+insert'`, keyed on `partition_date`" in said
            and "first run their pre-hook `clear_partitions()` (`macros/partitions.sql`), which deletes the run's partitions "
                "whole, and delete+insert then inserts the new rows, all in one transaction" in said)
