"""The command line itself: help for every command, usage errors."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from runner.cli import cli


@pytest.mark.parametrize("command", ["run", "backfill", "status", "history", "record"])
def test_every_command_has_help(command):
    result = CliRunner().invoke(cli, [command, "--help"], catch_exceptions=False)
    assert result.exit_code == 0
    assert cli.commands[command].help.splitlines()[0] in " ".join(result.output.split())


def test_group_help_lists_the_commands():
    result = CliRunner().invoke(cli, ["--help"], catch_exceptions=False)
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.output.split("Commands:\n", 1)[1].splitlines() if line.strip()]
    assert listed == sorted(cli.commands)
    assert {"run", "backfill", "status", "history", "record", "docs", "report"} <= set(listed)


def test_bad_date_option_is_a_usage_error():
    result = CliRunner().invoke(cli, ["status", "--start", "2018-02-30"])
    assert result.exit_code == 2
    assert "Invalid value for '--start': '2018-02-30' is not a real calendar date" in result.output


def test_missing_project_is_one_clear_error(tmp_path):
    result = CliRunner().invoke(cli, ["--project-dir", str(tmp_path), "status"])
    assert result.exit_code == 1
    assert result.output == f"Error: no dbt_project.yml in {tmp_path}\n"
