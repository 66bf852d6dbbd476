{# Where an incremental build of the DuckDB target finds its new rows for the delete+insert.
   dbt-duckdb first copies them into a temporary table, which DuckDB holds in memory: a chunk of a
   year would hold all its rows there, and the runner's memory would grow with the table. A load of
   several partitions (the `partition_dates` var) reads them through a view of the model's query
   instead: nothing is copied, and the query still sees what the copy would have, since the
   pre-hook has cleared the run's partitions before either exists. The view is created inside the
   model's transaction (a failed build leaves none) and dropped after its commit. One partition
   keeps dbt-duckdb's temporary table: its rows are few. #}
{% macro duckdb__dispatch_temporary_relation(target_relation, batch_id='') %}
    {%- if var('partition_dates', none) is none or model.language != 'sql' or adapter.is_motherduck() -%}
        {{- return(dbt.duckdb__dispatch_temporary_relation(target_relation, batch_id)) -}}
    {%- endif -%}
    {%- set relation = target_relation.incorporate(
        path={"identifier": target_relation.identifier ~ "__dbt_incoming"}, type='view') -%}
    {#- Left only if a runner died between the commit and the drop. -#}
    {%- do adapter.drop_relation(relation) -%}
    {{- return({'relation': relation, 'temporary': false}) -}}
{% endmacro %}


{# The materialization asks for its staging relation as a table; the view above is created as a view. #}
{% macro duckdb__create_table_as(temporary, relation, compiled_code, language='sql', partitioned_by=none, sorted_by=none) -%}
    {%- if relation.is_view and language == 'sql' -%}
        create view {{ relation }} as (
            {{ compiled_code }}
        )
    {%- else -%}
        {{ dbt.duckdb__create_table_as(temporary, relation, compiled_code, language, partitioned_by, sorted_by) }}
    {%- endif -%}
{%- endmacro %}
