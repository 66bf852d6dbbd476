"""What a load just wrote, measured through the dbt session that wrote it: rows and a content
fingerprint per model and partition, on whichever engine the target is."""

from __future__ import annotations

from datetime import date

from runner import content
from runner.dbt import Dbt, WarehouseError


def measure(dbt: Dbt, relations: dict[str, str], dates: list[date]) -> dict[tuple[str, date], content.Content]:
    """Rows and content fingerprint per model and partition, computed by the engine from the data
    (dbt-duckdb reports no row counts). `relations` maps model names to their relations as dbt
    rendered them. A partition with no rows has no group: it holds nothing."""
    if not relations:
        return {}
    query = content.content_query(dbt.project.engine.name, relations, content.dates_condition(dates))
    try:
        _, rows = dbt.query(query)
    except WarehouseError as error:
        raise WarehouseError(f"cannot count rows in {', '.join(relations.values())}: {error}") from None
    hash_used = dbt.project.engine.hash_name
    found = content.contents_of(rows, hash_used)
    return {(model, day): found.get((model, day), content.empty(hash_used)) for model in relations for day in dates}
