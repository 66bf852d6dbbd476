"""The documentation the tests hold to its word: README.md, short, and the pages of docs/ it links to.

A block or a line the tests run may sit in any of them, and move from one to another: these helpers
find it wherever it is, so that every command the documentation shows is still run as shown."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOCS = REPO / "docs"


def documents() -> dict[str, str]:
    """Every document's text by its path in the repository: README.md first, then docs/*.md by name."""
    paths = [README, *sorted(DOCS.glob("*.md"))]
    return {str(path.relative_to(REPO)): path.read_text() for path in paths}


def documentation() -> str:
    """All the documents, one after the other: where a test looks for every block of a kind."""
    return "\n".join(documents().values())


def the_one_saying(words: str) -> str:
    """The text of the one document that says `words`. What a test reads after such words must be
    said in one place: a copy elsewhere could drift from it unseen."""
    saying = {name: text for name, text in documents().items() if words in text}
    assert len(saying) == 1, f"{words!r} should be in one document, it is in {sorted(saying) or 'none'}"
    return next(iter(saying.values()))
