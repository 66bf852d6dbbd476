{# Rows of the model where the expression is false; with in_this_run, only this run's partitions
   (so a partition is gated on its own rows and the test's cost does not grow with the table). #}
{% test expression_is_true(model, expression, in_this_run=false, column_name=none) %}
    select *
    from {{ model }}
    where not ({{ expression }})
    {%- if in_this_run %} and {{ partition_predicate() }}{% endif %}
{% endtest %}
