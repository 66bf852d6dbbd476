{# Partitions of this run whose row count in the model differs from the compared model's:
   nothing lost or doubled on the way. count_column: the model holds counts, not rows. The marts run
   the same check inside their transactions (macros/guards.sql); this test is for other models. #}
{% test rows_match(model, compare_model, count_column=none) %}
    {{ rows_match_sql(model, compare_model, count_column) }}
{% endtest %}
