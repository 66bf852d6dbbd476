{# The days this invocation loads: the runner passes `partition_date` (one) or `partition_dates`. #}
{% macro sales_days() %}
    {%- set many = var('partition_dates', none) -%}
    {{- return(many | map('string') | list if many else [var('partition_date', '2024-02-26') | string]) -}}
{% endmacro %}

{% macro sales_days_sql() -%}
    {%- for day in sales_days() %}date '{{ day }}'{{ ", " if not loop.last }}{% endfor -%}
{%- endmacro %}

{# A day's file, where daily_file_pattern puts it under source_dir. #}
{% macro sales_file(day) -%}
    {%- set name = var('daily_file_pattern').replace('%Y', day[0:4]).replace('%m', day[5:7]).replace('%d', day[8:10]) -%}
    {{- var('source_dir') ~ '/' ~ name -}}
{%- endmacro %}
