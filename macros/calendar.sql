{# Calendar arithmetic on dates, the same on every engine. #}

{# The day of the week of a date: 0 is Sunday, 6 is Saturday. #}
{% macro day_of_week(column) %}
    {{- return(adapter.dispatch('day_of_week')(column)) -}}
{% endmacro %}

{% macro default__day_of_week(column) -%}
    extract(dow from {{ column }})
{%- endmacro %}

{#- Spark counts from 1 (Sunday). -#}
{% macro spark__day_of_week(column) -%}
    (extract(dow from {{ column }}) - 1)
{%- endmacro %}
