{# Files in the source directory whose names are not YYYY-MM-DD.csv: they would never be loaded. #}
{% test file_name_is_partition_date(model, column_name) %}
    select distinct {{ column_name }}
    from {{ model }}
    where not regexp_matches({{ column_name }}, '(^|/)[0-9]{4}-[0-9]{2}-[0-9]{2}\.csv$')
{% endtest %}
