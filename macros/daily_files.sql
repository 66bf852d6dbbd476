{# The absolute path of one partition's file: <source_dir>/<YYYY-MM-DD>.csv. #}
{% macro partition_file_path(day) %}
    {%- set source_dir = var('source_dir') | string -%}
    {%- if flags.PROJECT_DIR and not source_dir.startswith('/') -%}
        {#- relative to the project, not to wherever dbt was started -#}
        {%- set source_dir = flags.PROJECT_DIR ~ '/' ~ source_dir -%}
    {%- endif -%}
    {{- return(source_dir.rstrip('/') ~ '/' ~ day ~ '.csv') -}}
{% endmacro %}


{# A SQL string literal, quotes escaped: file paths come from the user's source_dir. #}
{% macro sql_string(text) -%}
    '{{ text | replace("'", "''") }}'
{%- endmacro %}


{# The files of this invocation's partitions as one relation of text columns plus `filename`.
   Strict: a wrong column count or a malformed row fails the read; types are parsed downstream. #}
{% macro read_partition_files() %}
    {{- return(adapter.dispatch('read_partition_files')()) -}}
{% endmacro %}

{% macro default__read_partition_files() %}
    read_csv(
        [
            {%- for day in partition_dates() %}
            {{ sql_string(partition_file_path(day)) }}{{ "," if not loop.last }}
            {%- endfor %}
        ],
        header = true,
        delim = ',',
        quote = '"',
        escape = '"',
        auto_detect = false,
        strict_mode = true,
        filename = true,
        columns = {
            'date': 'varchar',
            'share_price': 'varchar',
            'amount': 'varchar',
            'spend': 'varchar',
            'shift': 'varchar',
            'spread': 'varchar'
        }
    )
{% endmacro %}


{# The partition date named by a file path (its YYYY-MM-DD.csv name). #}
{% macro partition_date_of_file(path_column) %}
    {{- return(adapter.dispatch('partition_date_of_file')(path_column)) -}}
{% endmacro %}

{% macro default__partition_date_of_file(path_column) -%}
    cast(regexp_extract({{ path_column }}, '([0-9]{4}-[0-9]{2}-[0-9]{2})\.csv$', 1) as date)
{%- endmacro %}


{# A parsed value, or a run-stopping error naming the file, the column and the raw text. #}
{% macro parsed_or_fail(parsed, raw_column, what) %}
    {{- return(adapter.dispatch('parsed_or_fail')(parsed, raw_column, what)) -}}
{% endmacro %}

{% macro default__parsed_or_fail(parsed, raw_column, what) -%}
    case
        when {{ parsed }} is not null then {{ parsed }}
        else error(
            '{{ what }} in ' || filename || ' (column {{ raw_column }}): '
            || coalesce('''' || {{ raw_column }} || '''', 'empty value')
        )
    end
{%- endmacro %}


{# A decimal column at full precision (no floats), or an error naming the file. #}
{% macro parse_decimal(raw_column) -%}
    {{ parsed_or_fail("try_cast(trim(" ~ raw_column ~ ") as decimal(18, 4))", raw_column, 'unparseable number') }}
{%- endmacro %}


{# A date written YYYY-MM-DD or YYYY/MM/DD, or an error naming the file. #}
{% macro parse_quote_date(raw_column) -%}
    {{ parsed_or_fail(try_parse_date(raw_column), raw_column, 'unparseable date') }}
{%- endmacro %}


{# The SQL of a text column parsed as a date written YYYY-MM-DD or YYYY/MM/DD, or null. #}
{% macro try_parse_date(raw_column) %}
    {{- return(adapter.dispatch('try_parse_date')(raw_column)) -}}
{% endmacro %}

{% macro default__try_parse_date(raw_column) -%}
    cast(coalesce(try_strptime(trim({{ raw_column }}), '%Y-%m-%d'), try_strptime(trim({{ raw_column }}), '%Y/%m/%d')) as date)
{%- endmacro %}

{% macro spark__try_parse_date(raw_column) -%}
    coalesce(try_to_date(trim({{ raw_column }}), 'yyyy-M-d'), try_to_date(trim({{ raw_column }}), 'yyyy/M/d'))
{%- endmacro %}


{# Spark: one temporary view per file (CSV, every column text, FAILFAST: a missing file, a wrong
   column count or a malformed row fails the read), unioned into one view with the file's path as
   `filename`. The model's SQL names only that view, so it reads the same for any partitions and its
   code fingerprint does not change from one chunk to the next. #}
{% macro spark__read_partition_files() %}
    {%- set files_view = 'daily_partition_files' -%}
    {%- if execute -%}
        {%- set selects = [] -%}
        {%- for day in partition_dates() -%}
            {%- set view = 'daily_file_' ~ day | replace('-', '_') -%}
            {%- do run_query(
                "create or replace temporary view " ~ view ~ " (`date` string, share_price string, amount string,"
                ~ " spend string, shift string, spread string) using csv options (path "
                ~ spark_string(partition_file_path(day)) ~ ", header 'true', sep ',', quote '\"', escape '\"',"
                ~ " mode 'FAILFAST', multiLine 'false')"
            ) -%}
            {%- do selects.append(
                "select *, regexp_replace(input_file_name(), '^file:(//)?', '') as filename from " ~ view
            ) -%}
        {%- endfor -%}
        {%- do run_query("create or replace temporary view " ~ files_view ~ " as " ~ selects | join(" union all ")) -%}
    {%- endif -%}
    {{- return(files_view) -}}
{% endmacro %}


{# A Spark SQL string literal: backslashes and quotes escaped. #}
{% macro spark_string(text) -%}
    '{{ text | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}


{% macro spark__partition_date_of_file(path_column) -%}
    to_date(regexp_extract({{ path_column }}, '([0-9]{4}-[0-9]{2}-[0-9]{2})[.]csv$', 1), 'yyyy-MM-dd')
{%- endmacro %}


{% macro spark__parsed_or_fail(parsed, raw_column, what) -%}
    case
        when {{ parsed }} is not null then {{ parsed }}
        else raise_error(concat(
            '{{ what }} in ', filename, ' (column {{ raw_column }}): ',
            coalesce(concat(chr(39), {{ raw_column }}, chr(39)), 'empty value')
        ))
    end
{%- endmacro %}
