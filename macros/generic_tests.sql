{# Rows of the model where the expression is false; with in_this_run, only this run's partitions
   (so a partition is gated on its own rows and the test's cost does not grow with the table). #}
{% test expression_is_true(model, expression, in_this_run=false, column_name=none) %}
    select *
    from {{ model }}
    where not ({{ expression }})
    {%- if in_this_run %} and {{ partition_predicate() }}{% endif %}
{% endtest %}


{# Groups of rows repeating the same values of `columns`: duplicates. #}
{% test unique_combination(model, columns, in_this_run=false) %}
    select {{ columns | join(', ') }}, count(*) as copies
    from {{ model }}
    {%- if in_this_run %} where {{ partition_predicate() }}{% endif %}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}


{# Partitions of this run whose row count in the model differs from the compared model's:
   nothing lost or doubled on the way. count_column: the model holds counts, not rows. The marts run
   the same check inside their transactions (macros/guards.sql); this test is for other models. #}
{% test rows_match(model, compare_model, count_column=none) %}
    {{ rows_match_sql(model, compare_model, count_column) }}
{% endtest %}


{# Files in the source directory whose names are not YYYY-MM-DD.csv: they would never be loaded. #}
{% test file_name_is_partition_date(model, column_name) %}
    select distinct {{ column_name }}
    from {{ model }}
    where not regexp_matches({{ column_name }}, '(^|/)[0-9]{4}-[0-9]{2}-[0-9]{2}\.csv$')
{% endtest %}
