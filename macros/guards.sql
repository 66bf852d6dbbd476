{# Checks that run inside a model's own transaction, as its post-hooks: a failure stops the model
   before it commits, so its partitions roll back whole and keep their previous rows. A data test on
   a built model would run after the commit, and a failure would leave the new rows in place. #}

{# Stop the model with `what` and the first partition `query` returns, if it returns any. #}
{% macro guard(query, what) %}
    {{- return(adapter.dispatch('guard')(query, what)) -}}
{% endmacro %}

{% macro default__guard(query, what) -%}
    select error('{{ what }} in partition ' || cast(partition_date as varchar) || ' (' || detail || ')')
    from ({{ query }}) as found
    limit 1
{%- endmacro %}

{#- Spark has no transaction to roll back: the check still fails the model, after the overwrite. -#}
{% macro spark__guard(query, what) -%}
    select raise_error(concat('{{ what }} in partition ', cast(partition_date as string), ' (', detail, ')'))
    from ({{ query }}) as found
    limit 1
{%- endmacro %}


{# Partitions of this run whose row count in `model` differs from `compare_model`'s, with a
   `detail` saying both counts. count_column: the model holds counts, not rows. #}
{% macro rows_match_sql(model, compare_model, count_column=none) -%}
    with expected as (
        select partition_date, count(*) as row_count
        from {{ compare_model }}
        where {{ partition_predicate() }}
        group by partition_date
    ),

    actual as (
        select partition_date, {{ 'sum(' ~ count_column ~ ')' if count_column else 'count(*)' }} as row_count
        from {{ model }}
        where {{ partition_predicate() }}
        group by partition_date
    )

    select
        coalesce(expected.partition_date, actual.partition_date) as partition_date,
        concat(cast(coalesce(expected.row_count, 0) as {{ dbt.type_string() }}), ' rows in {{ compare_model.identifier }}, ',
               cast(coalesce(actual.row_count, 0) as {{ dbt.type_string() }}), ' here') as detail
    from expected
    full outer join actual on expected.partition_date = actual.partition_date
    where coalesce(expected.row_count, 0) <> coalesce(actual.row_count, 0)
{%- endmacro %}


{# Partitions of this run with more than one row in `model`. #}
{% macro duplicated_partitions_sql(model) -%}
    select partition_date, concat(cast(count(*) as {{ dbt.type_string() }}), ' rows') as detail
    from {{ model }}
    where {{ partition_predicate() }}
    group by partition_date
    having count(*) > 1
{%- endmacro %}
