"""The product's staging typing, written out as plain DuckDB SQL for the baselines that run without dbt.

It mirrors macros/daily_files.sql (read_partition_files, parse_decimal, parse_quote_date,
partition_date_of_file) and the column list of models/marts/raw_partition_data.sql, so every
contender loads the same rows with the same types, and the single scan can serve as the oracle.
"""

from __future__ import annotations

TABLE = "raw_partition_data"

COLUMNS = """
    partition_date date,
    quote_date date,
    open_price decimal(38, 10),
    high_price decimal(38, 10),
    low_price decimal(38, 10),
    close_price decimal(38, 10),
    volume decimal(38, 10),
    source_file varchar
"""


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _parsed_or_fail(parsed: str, raw_column: str, what: str) -> str:
    return (
        f"case when {parsed} is not null then {parsed} else error('{what} in ' || filename || "
        f"' (column {raw_column}): ' || coalesce('''' || {raw_column} || '''', 'empty value')) end"
    )


def _decimal(raw_column: str) -> str:
    places = f"length(rtrim(split_part(trim({raw_column}), '.', 2), '0'))"
    parsed = f"case when {places} <= 10 then try_cast(trim({raw_column}) as decimal(38, 10)) end"
    return _parsed_or_fail(parsed, raw_column, "unparseable number")


def _quote_date(raw_column: str) -> str:
    parsed = (
        f"cast(coalesce(try_strptime(trim({raw_column}), '%Y-%m-%d'), "
        f"try_strptime(trim({raw_column}), '%Y/%m/%d')) as date)"
    )
    return _parsed_or_fail(parsed, raw_column, "unparseable date")


def typed_select(files: str | list[str]) -> str:
    """The typed rows of these files (a glob or a list of paths), in raw_partition_data's columns."""
    paths = _literal(files) if isinstance(files, str) else "[" + ", ".join(_literal(path) for path in files) + "]"
    return f"""
        select
            cast(regexp_extract(filename, '([0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}})\\.csv$', 1) as date) as partition_date,
            {_quote_date('date')} as quote_date,
            {_decimal('spend')} as open_price,
            {_decimal('shift')} as high_price,
            {_decimal('spread')} as low_price,
            {_decimal('share_price')} as close_price,
            {_decimal('amount')} as volume,
            filename as source_file
        from read_csv(
            {paths},
            header = true, delim = ',', quote = '"', escape = '"', auto_detect = false, strict_mode = true,
            filename = true,
            columns = {{
                'date': 'varchar', 'share_price': 'varchar', 'amount': 'varchar',
                'spend': 'varchar', 'shift': 'varchar', 'spread': 'varchar'
            }}
        )
    """
