"""The daily files' naming rule, declared once in dbt_project.yml vars (`source_dir` and
`daily_file_pattern`) and read by the runner, the watcher, the fingerprints and the macros alike.

A pattern is a path under the source folder with `%Y`, `%m` and `%d` where the date goes:
`%Y-%m-%d.csv` (the default) or `%Y/%m/sales_%Y%m%d.parquet` (dated folders). Each of the three
appears at least once; a repeat must agree with the first (`2024/01/sales_20240105` names
2024-01-05, `2024/02/sales_20240105` names nothing)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path, PurePosixPath

DEFAULT_PATTERN = "%Y-%m-%d.csv"
DIRECTIVE = re.compile(r"%(.)")
DIGITS = {"Y": r"\d{4}", "m": r"\d{2}", "d": r"\d{2}"}
GLOB = re.compile(r"[*?\[\]{}]")


class PatternError(ValueError):
    """A daily_file_pattern the runner cannot name files with: the message says why."""


def checked_pattern(pattern: object) -> str:
    """The pattern, if it names one file per day under the source folder, without escaping it."""
    if not isinstance(pattern, str) or not pattern:
        raise PatternError(f"daily_file_pattern {pattern!r} is not a file name pattern such as {DEFAULT_PATTERN!r}")
    unknown = sorted({found for found in DIRECTIVE.findall(pattern) if found not in DIGITS})
    if unknown:
        raise PatternError(f"daily_file_pattern {pattern!r}: only %Y, %m and %d are understood, not "
                           + ", ".join(f"%{found}" for found in unknown))
    missing = [f"%{name}" for name in DIGITS if f"%{name}" not in pattern]
    if missing:
        raise PatternError(f"daily_file_pattern {pattern!r} lacks {', '.join(missing)}: it must name one file per day")
    parts = PurePosixPath(pattern).parts
    if pattern.startswith("/") or ".." in parts or "\\" in pattern:
        raise PatternError(f"daily_file_pattern {pattern!r} must stay inside the source folder (no '/' first, no '..')")
    if GLOB.search(pattern):  # dbt's file readers take a path as a pattern: it would match other files
        raise PatternError(f"daily_file_pattern {pattern!r}: *, ?, [, ], {{ and }} are not supported")
    return pattern


@dataclass(frozen=True)
class DailyFiles:
    """Where each partition's file is: <folder>/<pattern with the day's date>."""

    folder: Path
    pattern: str = DEFAULT_PATTERN

    def name(self, day: date) -> str:
        """The file's path under the folder, for example `2024/01/sales_20240105.parquet`."""
        values = {"Y": f"{day.year:04d}", "m": f"{day.month:02d}", "d": f"{day.day:02d}"}
        return DIRECTIVE.sub(lambda found: values[found.group(1)], self.pattern)

    def path(self, day: date) -> Path:
        return self.folder / self.name(day)

    @cached_property
    def regex(self) -> re.Pattern:
        """A relative path of a daily file, each directive a group named by its letter and position."""
        return re.compile(self._regex_text(named=True))

    def _regex_text(self, named: bool) -> str:
        pieces, at = [], 0
        for index, found in enumerate(DIRECTIVE.finditer(self.pattern)):
            letter = found.group(1)
            group = f"(?P<{letter}{index}>{DIGITS[letter]})" if named else DIGITS[letter]
            pieces += [re.escape(self.pattern[at:found.start()]), group]
            at = found.end()
        return "".join([*pieces, re.escape(self.pattern[at:])])

    def partition_of(self, path: Path) -> date | None:
        """The partition whose file `path` is, or None when it is not one (the rule of `path`)."""
        try:
            relative = path.relative_to(self.folder).as_posix()
        except ValueError:
            return None
        found = self.regex.fullmatch(relative)
        if found is None:
            return None
        by_letter: dict[str, set[str]] = {}
        for group, value in found.groupdict().items():
            by_letter.setdefault(group[0], set()).add(value)
        if any(len(values) > 1 for values in by_letter.values()):  # 2024/02/sales_20240105: which day?
            return None
        try:
            return date(*(int(next(iter(by_letter[letter]))) for letter in "Ymd"))
        except ValueError:  # 2024-02-30
            return None

    @property
    def nested(self) -> bool:
        """Whether the files live in folders under the source folder (dated folders)."""
        return len(PurePosixPath(self.pattern).parts) > 1

    def may_hold(self, path: Path) -> bool:
        """Whether a folder could lead to daily files (the watcher looks into it), by its depth."""
        try:
            depth = len(path.relative_to(self.folder).parts)
        except ValueError:
            return False
        return depth < len(PurePosixPath(self.pattern).parts)

    def describe(self) -> str:
        """The rule in words, for a message: `YYYY-MM-DD.csv`."""
        return DIRECTIVE.sub(lambda found: {"Y": "YYYY", "m": "MM", "d": "DD"}[found.group(1)], self.pattern)

    @cached_property
    def path_in_sql(self) -> re.Pattern:
        """A quoted daily file path in compiled SQL (the code fingerprint takes them out)."""
        return re.compile("'[^']*" + self._regex_text(named=False) + "'")
