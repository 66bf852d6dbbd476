"""Partition keys: parsing dates, inclusive ranges, the project's defined partitions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_partition_date(text: str) -> date:
    """A real calendar date written YYYY-MM-DD, or ValueError saying why not."""
    if not ISO_DATE.fullmatch(text.strip()):
        raise ValueError(f"{text!r} is not a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(text.strip())
    except ValueError as error:
        raise ValueError(f"{text!r} is not a real calendar date ({error})") from None


def date_range(start: date, end: date) -> list[date]:
    """Every day from start to end, both included."""
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


@dataclass(frozen=True)
class DefinedPartitions:
    """The partitions declared in dbt_project.yml vars; no end date means up to today."""

    start: date
    end: date | None

    def bounds(self, today: date | None = None) -> tuple[date, date]:
        return self.start, self.end or today or date.today()


def as_date(value) -> date:
    """A date from a warehouse value: a date, a timestamp or its text."""
    return value if isinstance(value, date) and not hasattr(value, "hour") else date.fromisoformat(str(value)[:10])
