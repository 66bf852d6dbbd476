"""The command line itself: help for every command, the commands and options the documentation shows, usage errors."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from conftest import REPO
from documents import documentation, the_one_saying

from runner.cli import cli
from runner.state_table import STATES

DOCUMENTATION = documentation()  # the README and docs/*.md
# What follows each command's [OPTIONS] in its usage line.
ARGUMENTS = {"run": " PARTITION", "history": " PARTITION", "record": " [RUN_RESULTS]", "forget": " PARTITIONS..."}


def help_of(*command: str) -> str:
    result = CliRunner().invoke(cli, [*command, "--help"], prog_name="runner", catch_exceptions=False)
    assert result.exit_code == 0
    return result.output


def options_in(help_text: str) -> set[str]:
    """The options a help page lists (each at the start of its line under Options)."""
    return set(re.findall(r"^  (--[a-z-]+)", help_text.split("\nOptions:\n", 1)[1], flags=re.MULTILINE))


def readme_command_lines() -> dict[str, set[str]]:
    """Every `runner COMMAND ...` line of the documentation's shell blocks: the options it is shown with, by command."""
    shown: dict[str, set[str]] = {}
    for block in re.findall(r"^```sh\n(.*?)^```$", DOCUMENTATION, flags=re.MULTILINE | re.DOTALL):
        for line in block.splitlines():
            found = re.search(r"(?:^|[\s/])runner((?: --(?:project-dir|target) \S+)*) ([a-z]+)(.*)", line.split(" #", 1)[0])
            if found:
                shown.setdefault(found[2], set()).update(re.findall(r"--[a-z-]+", found[3].split(">>", 1)[0]))
    return shown


def section(title: str) -> str:
    """The text under the one heading `title`, of whatever level (a section may move from the README
    into docs/ and up a level), up to the next heading."""
    (found,) = re.findall(rf"^#+ {re.escape(title)}\n(.*?)(?=^#|\Z)", DOCUMENTATION, flags=re.MULTILINE | re.DOTALL)
    return found


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help(command):
    """`runner COMMAND --help`: its usage line, and its own description first."""
    usage, description = help_of(command).split("\nOptions:\n", 1)[0].split("\n\n", 1)
    assert usage == f"Usage: runner {command} [OPTIONS]{ARGUMENTS.get(command, '')}"
    assert description.split() == cli.commands[command].help.split()  # the whole of its own description, rewrapped


def test_group_help_lists_the_commands():
    output = help_of()
    listed = [line.split()[0] for line in output.split("Commands:\n", 1)[1].splitlines() if line.strip()]
    assert listed == sorted(cli.commands)
    assert options_in(output) == {"--project-dir", "--target", "--help"}  # docs/runner.md: the group takes these two


def test_every_command_and_option_the_readme_shows_exists():
    """Each `runner ...` line of the documentation's shell blocks names a real command with options it has,
    and so does every option the backfill and history sections name."""
    shown = readme_command_lines()
    assert set(shown) == set(cli.commands)  # every command is shown, and only those
    for command, options in shown.items():
        assert options <= options_in(help_of(command)), command
    assert set(re.findall(r"`(--[a-z-]+)", section("backfill"))) <= options_in(help_of("backfill"))
    assert set(re.findall(r"`(--[a-z-]+)", section("history"))) <= options_in(help_of("history"))
    for command in ("run", "backfill", "status"):  # "`run`, `backfill` and `status` take `--source-dir DIR`"
        assert "--source-dir" in options_in(help_of(command))


def test_bad_date_option_is_a_usage_error():
    result = CliRunner().invoke(cli, ["status", "--start", "2018-02-30"])
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        "Error: Invalid value for '--start': '2018-02-30' is not a real calendar date (day is out of range for month)")


def test_missing_project_is_one_clear_error(tmp_path):
    result = CliRunner().invoke(cli, ["--project-dir", str(tmp_path), "status"])
    assert result.exit_code == 1
    assert result.output == f"Error: no dbt_project.yml in {tmp_path}\n"


def option_help(command: str, name: str) -> str:
    (option,) = [param for param in cli.commands[command].params if param.name == name]
    return option.help


def test_the_help_texts_say_what_the_readme_says():
    """`status --help` names every state (runner.states.STATES), as the table of states does
    (docs/partitions.md); `--end` defaults to the last complete day, yesterday, as docs/partitions.md and
    dbt_project.yml say of an open end (not today); `--last` counts days up to the end, in its help and in
    the README alike."""
    description = " ".join(help_of("status").split("\nOptions:\n", 1)[0].split())
    table = re.findall(r"^\| `(\w+)` \|", DOCUMENTATION, flags=re.MULTILINE)
    for state in STATES:
        assert re.search(rf"\b{state}\b", description), f"status --help does not name {state}"
        assert state in table, f"the documentation's table of states has no {state}"

    said = the_one_saying("Without `partitions_end_date`")
    open_end = " ".join(said.split("Without `partitions_end_date`", 1)[1].split("\n\n", 1)[0].split())
    assert "the last partition is the last complete day in `partitions_timezone` (default `UTC`), that is yesterday" in open_end
    comments = " ".join(line.split("#", 1)[1].strip() for line in (REPO / "dbt_project.yml").read_text().splitlines() if "#" in line)
    assert "up to the last complete day (yesterday" in comments and "up to today" not in comments
    for command in ("backfill", "status", "report"):
        end = option_help(command, "end")
        assert "the last complete day: yesterday" in end and "or today" not in end, command

    (shown,) = [line for line in DOCUMENTATION.splitlines() if line.startswith("runner backfill --last 7 ")]
    assert "last N days up to --end" in option_help("backfill", "last")
    assert "last 7 days up to the end" in shown.split("#", 1)[1]
