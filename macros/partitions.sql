{# The partitions of this invocation, validated: a list of ISO date strings.
   `partition_date` names one day; `partition_dates` (a list) names several, for batched loads. #}
{% macro partition_dates() %}
    {%- set one = var('partition_date', none) -%}
    {%- set many = var('partition_dates', none) -%}
    {%- if one is not none and many is not none -%}
        {{ exceptions.raise_compiler_error("Set either the var 'partition_date' or 'partition_dates', not both.") }}
    {%- endif -%}
    {%- if one is none and many is none -%}
        {%- if execute and flags.WHICH in ('run', 'build', 'retry') -%}
            {{ exceptions.raise_compiler_error(
                "The var 'partition_date' is required to run the partitioned model '" ~ model.name ~ "'. "
                ~ "Name the day to load, for example: dbt run --vars '{partition_date: 2018-01-22}'"
            ) }}
        {%- endif -%}
        {#- parse, compile, docs, test: render for the first defined partition, as an example -#}
        {{ return([as_partition_date(var('partitions_start_date'), 'partitions_start_date')]) }}
    {%- endif -%}
    {%- if one is not none -%}
        {{ return([as_partition_date(one, 'partition_date')]) }}
    {%- endif -%}
    {%- if many is string or many is not iterable or many | length == 0 -%}
        {{ exceptions.raise_compiler_error("The var 'partition_dates' must be a non-empty list of dates, for example: dbt run --vars '{partition_dates: [2018-01-22, 2018-01-23]}'") }}
    {%- endif -%}
    {%- set dates = [] -%}
    {%- for value in many -%}
        {%- do dates.append(as_partition_date(value, 'partition_dates')) -%}
    {%- endfor -%}
    {{ return(dates | unique | sort | list) }}
{% endmacro %}


{# One partition key as an ISO date string; anything but a real calendar date YYYY-MM-DD fails to compile.
   This is the only gate between a user's var and the SQL and file paths built from it. #}
{% macro as_partition_date(value, var_name) %}
    {%- set text = value.isoformat() if (value is not string and value.isoformat is defined) else value | string -%}
    {%- set problem = "The var '" ~ var_name ~ "' must be a real calendar date written YYYY-MM-DD, got " ~ (text[:40] | tojson) -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', text) -%}
        {{ exceptions.raise_compiler_error(problem) }}
    {%- endif -%}
    {%- set year, month, day = text.split('-') | map('int') | list -%}
    {%- if year < 1 or month < 1 or month > 12 or day < 1 -%}
        {{ exceptions.raise_compiler_error(problem) }}
    {%- endif -%}
    {%- set next_month = modules.datetime.date(year, month, 28) + modules.datetime.timedelta(days=4) -%}
    {%- set last_day = (next_month.replace(day=1) - modules.datetime.timedelta(days=1)).day -%}
    {%- if day > last_day -%}
        {{ exceptions.raise_compiler_error(problem) }}
    {%- endif -%}
    {{ return(text) }}
{% endmacro %}


{# The SQL condition selecting this invocation's partitions: the one partition predicate of the project. #}
{% macro partition_predicate(column='partition_date') %}
    {%- set literals = [] -%}
    {%- for day in partition_dates() -%}
        {%- do literals.append("date '" ~ day ~ "'") -%}
    {%- endfor -%}
    {{- column }} in ({{ literals | join(', ') }})
{%- endmacro %}


{# The pre-hook of every partitioned model: delete this invocation's partitions whole, in the same
   transaction as the insert. delete+insert alone deletes only keys present in the new data,
   so an emptied or shrunk day would keep its old rows. #}
{% macro clear_partitions() %}
    {{- return(adapter.dispatch('clear_partitions')()) -}}
{% endmacro %}

{% macro default__clear_partitions() %}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ partition_predicate() }}
    {%- endif -%}
{% endmacro %}

{#- Spark: no delete on plain tables; insert_overwrite replaces the partitions (see drop_emptied_partitions). -#}
{% macro spark__clear_partitions() %}{% endmacro %}


{# The post-hook of every partitioned model: drop this invocation's partitions that the new data has
   no rows for (an emptied day). Spark's dynamic partition overwrite replaces only the partitions it
   writes rows to; this runs after it succeeded, so a failed load changes nothing. #}
{% macro drop_emptied_partitions() %}
    {{- return(adapter.dispatch('drop_emptied_partitions')()) -}}
{% endmacro %}

{#- DuckDB: the pre-hook already cleared the partitions whole. -#}
{% macro default__drop_emptied_partitions() %}{% endmacro %}

{% macro spark__drop_emptied_partitions() %}
    {%- if execute -%}
        {%- set written = run_query(
            "select distinct cast(partition_date as string) as partition_date from (" ~ sql ~ ") as new_rows"
        ).columns[0].values() | list -%}
        {%- set emptied = partition_dates() | reject('in', written) | list -%}
        {%- if emptied -%}
            alter table {{ this }} drop if exists
            {%- for day in emptied %} partition (partition_date = '{{ day }}'){{ ',' if not loop.last }}{% endfor %}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}


{# One row per partition of this invocation, with its date: the spine that keeps empty days visible. #}
{% macro partition_spine() %}
    select partition_date
    from (values
        {%- for day in partition_dates() %}
        (date '{{ day }}'){{ "," if not loop.last }}
        {%- endfor %}
    ) as spine (partition_date)
{% endmacro %}
