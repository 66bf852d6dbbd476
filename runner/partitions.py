"""Partition keys: parsing dates, inclusive ranges, the project's defined partitions."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

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


def days_text(dates: list[date]) -> str:
    """Consecutive days as a person reads them: `2018-01-02`, or `2018-01-02 to 2018-01-04`."""
    return f"{dates[0]}" + (f" to {dates[-1]}" if len(dates) > 1 else "")


# The clock, pinned for schedulers' dry runs and for tests: an ISO timestamp (2018-01-31T06:00:00Z).
CLOCK_VARIABLE = "RUNNER_NOW"


def now() -> datetime:
    """The current moment, timezone-aware: RUNNER_NOW when set, else the system clock."""
    pinned = os.environ.get(CLOCK_VARIABLE)
    if not pinned:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(pinned.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{CLOCK_VARIABLE}={pinned!r} is not an ISO timestamp such as 2018-01-31T06:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class DefinedPartitions:
    """The partitions declared in dbt_project.yml vars. Without an end date, as Dagster's
    DailyPartitionsDefinition: up to the last complete day in the time zone, plus end_offset days."""

    start: date
    end: date | None
    end_offset: int = 0
    timezone: str = "UTC"
    late_after: timedelta | None = None  # how long after its day closes a file is overdue; None: never

    def bounds(self, moment: datetime | None = None) -> tuple[date, date]:
        if self.end is not None:
            return self.start, self.end
        today = (moment or now()).astimezone(ZoneInfo(self.timezone)).date()
        return self.start, today - timedelta(days=1) + timedelta(days=self.end_offset)

    def dates(self, moment: datetime | None = None) -> list[date]:
        """Every defined partition: none yet when an open end starts today (the first is due tomorrow)."""
        start, end = self.bounds(moment)
        return date_range(start, end) if start <= end else []

    def late_before(self, moment: datetime | None = None) -> date | None:
        """The first day whose file is not yet overdue: a day closes at midnight in the time zone,
        and its file is late `late_after` later."""
        if self.late_after is None:
            return None
        return ((moment or now()).astimezone(ZoneInfo(self.timezone)) - self.late_after).date()


DURATION = re.compile(r"(\d+)\s*([dhm])")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_duration(text: str) -> timedelta:
    """A duration written as days, hours and minutes: `24h`, `1d 6h`, `90m`; ValueError otherwise."""
    parts = DURATION.findall(text)
    if not parts or DURATION.sub("", text).strip():
        raise ValueError(f"{text!r} is not a duration such as 24h, 1d 6h or 90m")
    return sum((timedelta(**{UNITS[unit]: int(count)}) for count, unit in parts), timedelta())


def as_date(value) -> date:
    """A date from a warehouse value: a date, a timestamp or its text."""
    return value if isinstance(value, date) and not hasattr(value, "hour") else date.fromisoformat(str(value)[:10])
