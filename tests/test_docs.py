"""The documentation's shape: a README a newcomer reads in ten minutes, a command reference that is
the commands' own `--help` (docs/cli.md, written by scripts/gen-cli-docs), and links that lead
somewhere. What the documents say is run by test_readme.py, test_cli.py and test_daily_operation.py."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from documents import DOCS, README, REPO, documents

from runner.cli import cli

README_LIMIT = 16 * 1024
GENERATOR = REPO / "scripts" / "gen-cli-docs"
REFERENCE = DOCS / "cli.md"
RUNNER = str(Path(sys.executable).with_name("runner"))


def generator(*args: str) -> subprocess.CompletedProcess:
    """scripts/gen-cli-docs run by these tests' Python, the venv `make docs` runs it with."""
    return subprocess.run([sys.executable, str(GENERATOR), *args], capture_output=True, text=True, timeout=300)


def test_the_readme_is_short():
    """The README is the tour and the map; the depth lives in docs/."""
    size = len(README.read_bytes())
    assert size <= README_LIMIT, f"README.md is {size} bytes, over {README_LIMIT}: move the depth into docs/"


def test_the_readme_starts_with_the_two_commands():
    """Its first block is the two commands a newcomer needs: `make run` and `make test`."""
    first = re.search(r"^```sh\n(.*?)^```$", README.read_text(), flags=re.MULTILINE | re.DOTALL)[1]
    assert [shlex.split(line, comments=True) for line in first.splitlines()] == [["make", "run"], ["make", "test"]]


def test_the_command_reference_is_up_to_date():
    """docs/cli.md is what scripts/gen-cli-docs writes from the commands' help as they are now."""
    done = generator("--check")
    assert done.returncode == 0, f"docs/cli.md is out of date: run scripts/gen-cli-docs (or make docs)\n{done.stderr}"


def test_the_check_names_a_reference_that_is_out_of_date(tmp_path):
    """`--check` on a stale copy: exit 1, one line naming the file, and the file left as it was."""
    stale = tmp_path / "cli.md"
    stale.write_text(REFERENCE.read_text().replace("Show this message and exit.", "Show this message."))
    before = stale.read_text()

    done = generator("--check", "--output", str(stale))

    assert (done.returncode, done.stdout, done.stderr) == (1, "", f"{stale} is out of date: run scripts/gen-cli-docs\n")
    assert stale.read_text() == before


def reference_pages() -> dict[str, str]:
    """docs/cli.md's help pages by their heading (`runner`, `runner backfill`, ...)."""
    found = re.findall(r"^## (runner[a-z ]*)\n\n```text\n(.*?)^```$", REFERENCE.read_text(), flags=re.MULTILINE | re.DOTALL)
    return dict(found)


def test_the_reference_is_what_help_prints_in_80_columns():
    """Every command has its page, in `--help`'s order, and each page is what the installed `runner ...
    --help` prints on an 80-column terminal (CliRunner would not do: it lays help out 80 wide, where a
    terminal of 80 columns gets 78)."""
    pages = reference_pages()
    assert list(pages) == ["runner", *(f"runner {name}" for name in sorted(cli.commands))]
    for heading, page in pages.items():
        printed = subprocess.run([RUNNER, *heading.split()[1:], "--help"], env={**os.environ, "COLUMNS": "80"},
                                 capture_output=True, text=True, timeout=120)
        assert (printed.returncode, printed.stdout) == (0, page), heading


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The anchors of a document's headings (a `#` line inside a code block is not one)."""
    prose = re.sub(r"^```.*?^```$", "", text, flags=re.MULTILINE | re.DOTALL)
    return {github_anchor(heading) for heading in re.findall(r"^#+ (.+)$", prose, flags=re.MULTILINE)}


def local_links() -> list[tuple[str, str]]:
    """(document, target) for every link and image of the documents that is not a web address."""
    return [(name, target) for name, text in documents().items()
            for target in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"[a-z]+:", target)]


@pytest.mark.parametrize(("document", "target"), local_links())
def test_every_link_leads_somewhere(document, target):
    """A link or image of the README or docs/ names a file that exists, relative to the document
    (from inside docs/, `console-overview.png`, not `docs/...`), and a heading there when it names one."""
    path, _, anchor = target.partition("#")
    linked = (REPO / document).parent / path if path else REPO / document
    assert linked.exists(), f"{document} links to {target}: there is no such file"
    if anchor:
        assert anchor in anchors(linked.read_text()), f"{document} links to {target}: no such heading"
