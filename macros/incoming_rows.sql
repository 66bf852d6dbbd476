{# Where an incremental build of the DuckDB target stages its new rows before the delete+insert.
   dbt-duckdb stages them in a temporary table, which DuckDB holds in memory: a chunk of a year
   would hold all its rows there, so the runner's memory would grow with the table's size. A load
   of several partitions (the `partition_dates` var) stages them in a table of the warehouse file
   instead, created inside the model's transaction (a failed build leaves none) and dropped after
   its commit. One partition's rows stay in memory: writing them to the file costs more than it saves. #}
{% macro duckdb__dispatch_temporary_relation(target_relation, batch_id='') %}
    {%- if var('partition_dates', none) is none or adapter.is_motherduck() -%}
        {{- return(dbt.duckdb__dispatch_temporary_relation(target_relation, batch_id)) -}}
    {%- endif -%}
    {%- set relation = target_relation.incorporate(path={"identifier": target_relation.identifier ~ "__dbt_incoming"}) -%}
    {#- Left only if a runner died between the commit and the drop. -#}
    {%- do adapter.drop_relation(relation) -%}
    {{- return({'relation': relation, 'temporary': false}) -}}
{% endmacro %}
