"""`runner forget`: a loaded day whose file is gone for good leaves the warehouse. Its rows are
deleted from every model that keeps partitions, and the ledger records that it was forgotten (its
history stays): the day awaits its file again, and loads as any new day when the file comes back."""

from __future__ import annotations

import uuid
from datetime import date

from runner.dbt import Dbt
from runner.ledger import Ledger
from runner.recording import mark_warehouse, marker_runs, warehouse_changed
from runner.states import FORGOTTEN
from runner.warehouse import measure


def forget(dbt: Dbt, ledger: Ledger, dates: list[date]) -> dict[date, dict[str, int]]:
    """Delete these partitions' rows from the incremental models, record them forgotten, and
    return the rows each model held per day before."""
    project = dbt.project
    untouched = not warehouse_changed(project, ledger)
    relations = {model: dbt.relation_name(model) for model in project.models.incremental}
    relations = {model: relation for model, relation in relations.items() if relation}
    held = measure(dbt, relations, dates)
    days = ", ".join(f"'{day.isoformat()}'" for day in dates)  # dates parsed by click: no text of the user's
    for relation in relations.values():
        dbt.query(f"delete from {relation} where partition_date in ({days})")
    files = {day: project.source_file(day) for day in dates}
    ledger.record(marker_runs(f"forget-{uuid.uuid4()}", dates, files, FORGOTTEN,
                              "forgotten (runner forget): its rows were removed; it awaits its file"))
    if untouched:  # the ledger still accounts for the whole warehouse
        mark_warehouse(project, ledger)
    return {day: {model: held[(model, day)].rows for model in relations} for day in dates}
