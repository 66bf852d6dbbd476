{# A sum of doubles that does not depend on the order the engine meets the rows in: the values are
   added smallest first. A plain sum's last digits follow its threads and row groups, so a partition
   loaded alone and the same partition loaded in a chunk would differ (bench/, the runner modes'
   check). #}
{% macro ordered_sum(expression) %}
    {{- return(adapter.dispatch('ordered_sum')(expression)) -}}
{% endmacro %}

{% macro default__ordered_sum(expression) -%}
    sum({{ expression }} order by {{ expression }})
{%- endmacro %}

{#- Spark has no ordered aggregate: the values collected, sorted, then folded. -#}
{% macro spark__ordered_sum(expression) -%}
    aggregate(array_sort(collect_list({{ expression }})), cast(0 as double), (total, value) -> total + value)
{%- endmacro %}
