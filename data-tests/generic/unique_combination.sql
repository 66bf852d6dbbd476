{# Groups of rows repeating the same values of `columns`: duplicates. #}
{% test unique_combination(model, columns, in_this_run=false) %}
    select {{ columns | join(', ') }}, count(*) as copies
    from {{ model }}
    {%- if in_this_run %} where {{ partition_predicate() }}{% endif %}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
