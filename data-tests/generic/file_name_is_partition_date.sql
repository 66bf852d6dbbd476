{# Files in the source directory whose paths do not follow daily_file_pattern (daily_file_name):
   they would never be loaded. #}
{% test file_name_is_partition_date(model, column_name) %}
    select distinct {{ column_name }}
    from {{ model }}
    where not regexp_matches({{ column_name }}, '(^|/){{ daily_file_name() }}')
{% endtest %}
