"""What the warehouse holds now, as one look found it: rows, and content when hashed again, per
partitioned model and partition. The ledger says what the runner did; this says what is there."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from runner import content


@dataclass(frozen=True)
class Holdings:
    """Rows per (model, partition), for the models asked about. `gone` says why the warehouse
    holds nothing (every loaded partition is stale); `unchecked` why it could not be read (status
    then trusts the ledger, and says so)."""

    rows: dict[tuple[str, date], int] = field(default_factory=dict)
    gone: str | None = None
    unchecked: str | None = None
    tables: frozenset[str] | None = None  # the tables of its main schema, when it was read
    contents: dict[tuple[str, date], content.Content] | None = None  # hashed again: only when verified
    hash_used: str = ""  # the engine's row hash that computed `contents`
    span: tuple[date, date] | None = None  # the partitions whose content was hashed again
    models: tuple[str, ...] = ()  # the models asked about: those the ledger is checked against

    def verified(self, dates: list[date]) -> bool:
        """Whether every one of these partitions' content was hashed again."""
        return self.contents is not None and self.span is not None and bool(dates) and \
            self.span[0] <= dates[0] and dates[-1] <= self.span[1]

    @property
    def checked(self) -> bool:
        return self.unchecked is None

    def rows_of(self, model: str, day: date) -> int | None:
        if not self.checked:
            return None
        return 0 if self.gone else self.rows.get((model, day), 0)

    def content_of(self, model: str, day: date) -> content.Content | None:
        """The partition's content now, when the warehouse was hashed again (None: it was not)."""
        if self.contents is None or not self.checked or self.gone:
            return None
        return self.contents.get((model, day)) or content.empty(self.hash_used)
