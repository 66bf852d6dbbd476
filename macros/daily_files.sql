{# The naming rule of the daily files, declared once: the `daily_file_pattern` var, a path under
   the source folder with %Y, %m and %d where the date goes (`%Y-%m-%d.csv`, or dated folders such
   as `%Y/%m/quotes_%Y%m%d.csv`). The runner reads the same var (runner/daily_files.py). #}
{% macro daily_file_pattern() %}
    {%- set pattern = var('daily_file_pattern', '%Y-%m-%d.csv') | string -%}
    {%- for directive in ['%Y', '%m', '%d'] if directive not in pattern -%}
        {{ exceptions.raise_compiler_error("The var 'daily_file_pattern' lacks " ~ directive ~ ": it must name one file per day, for example %Y-%m-%d.csv (got " ~ pattern ~ ")") }}
    {%- endfor -%}
    {{- return(pattern) -}}
{% endmacro %}


{# With `day` (an ISO date string): that partition's file under the source folder. Without: the
   regular expression of such a path at the end of a path, the first %Y, %m and %d its groups 1, 2
   and 3 in that order of appearance (`daily_file_date_groups`). Literal characters other than
   letters, digits, '_' and '/' are written as classes (`[.]`): no backslash, which the engines'
   SQL strings read differently. #}
{% macro daily_file_name(day=none) %}
    {%- set pattern = daily_file_pattern() -%}
    {%- if day is not none -%}
        {%- set day = day | string -%}
        {{- return(pattern.replace('%Y', day[0:4]).replace('%m', day[5:7]).replace('%d', day[8:10])) -}}
    {%- endif -%}
    {%- set seen = [] -%}
    {%- set pieces = [] -%}
    {%- for piece in modules.re.split('(%[Ymd])', pattern) -%}
        {%- set digits = '[0-9]{4}' if piece == '%Y' else '[0-9]{2}' -%}
        {%- if piece in ['%Y', '%m', '%d'] and piece not in seen -%}
            {%- do seen.append(piece) -%}
            {%- do pieces.append('(' ~ digits ~ ')') -%}
        {%- elif piece in ['%Y', '%m', '%d'] -%}
            {%- do pieces.append(digits) -%}
        {%- else -%}
            {%- for character in piece -%}
                {%- do pieces.append(character if character.isalnum() or character in '_/' else '[' ~ character ~ ']') -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(pieces | join('') ~ '$') -}}
{% endmacro %}


{# The regular expression's group of the year, the month and the day (`daily_file_name()`). #}
{% macro daily_file_date_groups() %}
    {%- set order = modules.re.findall('%[Ymd]', daily_file_pattern()) -%}
    {%- set first = [] -%}
    {%- for directive in order if directive not in first -%}
        {%- do first.append(directive) -%}
    {%- endfor -%}
    {{- return({'year': first.index('%Y') + 1, 'month': first.index('%m') + 1, 'day': first.index('%d') + 1}) -}}
{% endmacro %}


{# The absolute path of one partition's file: <source_dir>/<daily_file_name(day)>. #}
{% macro partition_file_path(day) %}
    {%- set source_dir = var('source_dir') | string -%}
    {%- if flags.PROJECT_DIR and not source_dir.startswith('/') -%}
        {#- relative to the project, not to wherever dbt was started -#}
        {%- set source_dir = flags.PROJECT_DIR ~ '/' ~ source_dir -%}
    {%- endif -%}
    {%- if modules.re.search('[*?\\[\\]{}]', source_dir) -%}
        {#- the engines' file readers take a path as a glob pattern: it would match other folders -#}
        {{ exceptions.raise_compiler_error("The var 'source_dir' must not contain *, ?, [, ], { or } (file readers take them as patterns): " ~ source_dir) }}
    {%- endif -%}
    {{- return(source_dir.rstrip('/') ~ '/' ~ daily_file_name(day)) -}}
{% endmacro %}


{# A SQL string literal, quotes escaped: file paths come from the user's source_dir. #}
{% macro sql_string(text) -%}
    '{{ text | replace("'", "''") }}'
{%- endmacro %}


{# The columns of a daily file, by the names its header gives them (in any order, any case). #}
{% macro daily_file_columns() %}
    {{- return(['date', 'share_price', 'amount', 'spend', 'shift', 'spread']) -}}
{% endmacro %}


{# The files of this invocation's partitions as one relation of text columns plus `filename`, each
   file's columns taken by the names in its header, never by position. Strict: a bad header, a wrong
   column count or a malformed row fails the run; types are parsed downstream. #}
{% macro read_partition_files() %}
    {{- return(adapter.dispatch('read_partition_files')()) -}}
{% endmacro %}

{% macro default__read_partition_files() %}
    {#- One read per header order (nearly always one); the data markers let the code fingerprint
        tell the files and their column order (data) from the SQL (code). -#}
    (
    {%- for columns, paths in partition_files_by_columns() %}
        (select {{ daily_file_columns() | join(', ') }}, filename
        from read_csv(
            /* data: */[
                {%- for path in paths %}{{ sql_string(path) }}{{ ", " if not loop.last }}{% endfor -%}
            ]/* :data */,
            header = true,
            delim = ',',
            quote = '"',
            escape = '"',
            auto_detect = false,
            strict_mode = true,
            filename = true,
            columns = /* data: */{
                {%- for column in columns %}'{{ column }}': 'varchar'{{ ", " if not loop.last }}{% endfor -%}
            }/* :data */
        ))
        {%- if not loop.last %} union all {% endif %}
    {%- endfor %}
    )
{% endmacro %}


{# The run's files grouped by the column order of their headers: a list of [columns, paths],
   every header checked first. While dbt parses (no files read), the expected order. #}
{% macro partition_files_by_columns() %}
    {%- set paths = [] -%}
    {%- for day in partition_dates() -%}
        {%- do paths.append(partition_file_path(day)) -%}
    {%- endfor -%}
    {%- if not execute -%}
        {{- return([[daily_file_columns(), paths]]) -}}
    {%- endif -%}
    {%- set headers = partition_file_headers(paths) -%}
    {%- set groups = {} -%}
    {%- for path in paths -%}
        {%- set columns = file_columns(path, headers.get(path)) -%}
        {%- do groups.setdefault(columns | join(","), [columns, []])[1].append(path) -%}
    {%- endfor -%}
    {{- return(groups.values() | list) -}}
{% endmacro %}


{# One file's columns in the order its header names them. Fails (a compile error naming the file,
   the columns found and those expected) unless the header names each expected column exactly
   once: matched case-insensitively, quoted or not, in any order. #}
{% macro file_columns(path, header) %}
    {%- set expected = daily_file_columns() -%}
    {%- set wanted = "expected " ~ expected | join(",") -%}
    {%- if header is none -%}
        {{ exceptions.raise_compiler_error("empty file: no header: " ~ path ~ " (" ~ wanted ~ ")") }}
    {%- endif -%}
    {%- if "\x00" in header or "\ufffd" in header -%}
        {{ exceptions.raise_compiler_error(
            "not UTF-8" ~ (" (UTF-16?)" if "\x00" in header else "") ~ ": " ~ path ~ ": save the file as UTF-8") }}
    {%- endif -%}
    {%- set found = [] -%}
    {%- for name in header.lstrip("\ufeff").split(",") -%}
        {%- do found.append(name.strip().strip('"').strip().lower()) -%}
    {%- endfor -%}
    {%- set shown = (found | join(",") | tojson)[:120] -%}
    {%- set missing = expected | reject("in", found) | list -%}
    {%- set unknown = found | reject("in", expected) | list -%}
    {%- set duplicated = [] -%}
    {%- for name in expected -%}
        {%- if found.count(name) > 1 -%}{%- do duplicated.append(name) -%}{%- endif -%}
    {%- endfor -%}
    {%- if missing | length == expected | length -%}
        {{ exceptions.raise_compiler_error("no header in " ~ path ~ ": its first line is " ~ shown ~ " (" ~ wanted ~ ")") }}
    {%- endif -%}
    {%- if missing or unknown or duplicated -%}
        {%- set problems = [] -%}
        {%- if missing %}{% do problems.append("missing " ~ missing | join(",")) %}{% endif -%}
        {%- if unknown %}{% do problems.append("unknown " ~ (unknown | join(",") | tojson)[:60]) %}{% endif -%}
        {%- if duplicated %}{% do problems.append("duplicated " ~ duplicated | join(",")) %}{% endif -%}
        {{ exceptions.raise_compiler_error(
            "bad header in " ~ path ~ ": found " ~ shown ~ ", " ~ wanted ~ " (" ~ problems | join("; ") ~ ")") }}
    {%- endif -%}
    {{- return(found) -}}
{% endmacro %}


{# Each file's first line by path (none for a 0-byte file): one query for all the run's files. #}
{% macro partition_file_headers(paths) %}
    {{- return(adapter.dispatch('partition_file_headers')(paths)) -}}
{% endmacro %}

{#- DuckDB: daily_file_header() comes from the profile's plugin (runner/duckdb_plugin.py). -#}
{% macro default__partition_file_headers(paths) %}
    {%- set query -%}
        select path, daily_file_header(path) as header
        from (values {% for path in paths %}({{ sql_string(path) }}){{ ", " if not loop.last }}{% endfor %}) as files (path)
    {%- endset -%}
    {%- set headers = {} -%}
    {%- for row in run_query(query).rows -%}
        {%- do headers.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {{- return(headers) -}}
{% endmacro %}

{% macro spark__partition_file_headers(paths) %}
    {%- set headers = {} -%}
    {%- for path in paths -%}
        {%- set rows = run_query("select value from text.`" ~ path | replace("`", "``") ~ "` limit 1").rows -%}
        {%- do headers.update({path: rows[0][0] if rows | length else none}) -%}
    {%- endfor -%}
    {{- return(headers) -}}
{% endmacro %}


{# The partition date named by a file path (daily_file_name): one regular expression per row, its
   groups rewritten as YYYY-MM-DD (the engines write a group in a replacement differently). #}
{% macro partition_date_of_file(path_column) %}
    {{- return(adapter.dispatch('partition_date_of_file')(path_column)) -}}
{% endmacro %}

{% macro default__partition_date_of_file(path_column) -%}
    {%- set groups = daily_file_date_groups() -%}
    cast(regexp_replace({{ path_column }}, '^.*{{ daily_file_name() }}', '\{{ groups.year }}-\{{ groups.month }}-\{{ groups.day }}') as date)
{%- endmacro %}

{% macro spark__partition_date_of_file(path_column) -%}
    {%- set groups = daily_file_date_groups() -%}
    to_date(regexp_replace({{ path_column }}, '^.*{{ daily_file_name() }}', '${{ groups.year }}-${{ groups.month }}-${{ groups.day }}'), 'yyyy-MM-dd')
{%- endmacro %}


{# A parsed value, or a run-stopping error naming the file, the column and the raw text. #}
{% macro parsed_or_fail(parsed, raw_column, what) -%}
    case when {{ parsed }} is not null then {{ parsed }} else {{ value_error(raw_column, what) }} end
{%- endmacro %}


{# An expression that stops the run with `what`, the file, the column and (cut short) the raw text. #}
{% macro value_error(raw_column, what) %}
    {{- return(adapter.dispatch('value_error')(raw_column, what)) -}}
{% endmacro %}

{% macro default__value_error(raw_column, what) -%}
    error(
        '{{ what }} in ' || filename || ' (column {{ raw_column }}): '
        || coalesce('''' || left({{ raw_column }}, 40) || '''', 'empty value')
    )
{%- endmacro %}


{# A decimal column stored exactly (decimal(38, 10), never a float), or an error naming the file. A
   value with more than 10 decimals would be rounded by the cast: it fails instead. Dispatched: the
   default is the strict parse, which explains every refusal; DuckDB tries a cheaper parse first. #}
{% macro parse_decimal(raw_column) %}
    {{- return(adapter.dispatch('parse_decimal')(raw_column)) -}}
{% endmacro %}

{% macro default__parse_decimal(raw_column) -%}
    case
        {#- DuckDB's cast reads `1_000` as 1000, Spark's refuses it: a digit separator is refused on both. #}
        when instr({{ raw_column }}, '_') > 0 then {{ value_error(raw_column, 'unparseable number') }}
        when {{ decimal_places(raw_column) }} > 10 then {{ value_error(raw_column, 'more than 10 decimals (it would be rounded)') }}
        else {{ parsed_or_fail("try_cast(trim(" ~ raw_column ~ ") as decimal(38, 10))", raw_column, 'unparseable number') }}
    end
{%- endmacro %}

{#- DuckDB, optimistic: a value without an exponent or a `_` with at most 10 characters after its
    first '.' (so at most 10 decimals, whatever trim and trailing zeros would remove) that the cast takes is that cast's
    value, exactly what the strict parse gives it; any other value (an error, or one the check
    cannot vouch for) goes through the strict parse, which gives it or fails with its message. The
    check counts bytes (strlen), never fewer than characters: a value the cast takes is ASCII. The
    cast reads surrounding whitespace as the strict parse's trim does. The strict parse sits in the
    ELSE branch, so DuckDB evaluates it only for the rows that reach it. -#}
{% macro duckdb__parse_decimal(raw_column) -%}
    case
        when (strlen({{ raw_column }}) <= 11 or strlen({{ raw_column }}) - strpos({{ raw_column }}, '.') <= 10)
            and not contains(lower({{ raw_column }}), 'e') and not contains({{ raw_column }}, '_')
            and try_cast({{ raw_column }} as decimal(38, 10)) is not null
            then try_cast({{ raw_column }} as decimal(38, 10))
        else {{ default__parse_decimal(raw_column) }}
    end
{%- endmacro %}


{# How many decimals a number written as text has, trailing zeros aside: its mantissa's, less its
   exponent (`1.5e-12` has 13, `1.23456789012e5` has 6), so that a value written with an exponent
   is refused when the cast would round it, as any other. #}
{% macro decimal_places(raw_column) %}
    {{- return(adapter.dispatch('decimal_places')(raw_column)) -}}
{% endmacro %}

{% macro default__decimal_places(raw_column) -%}
    length(rtrim(split_part(split_part(lower(trim({{ raw_column }})), 'e', 1), '.', 2), '0'))
    - {{ decimal_exponent(raw_column) }}
{%- endmacro %}

{% macro spark__decimal_places(raw_column) -%}
    length(regexp_replace(split_part(split_part(lower(trim({{ raw_column }})), 'e', 1), '.', 2), '0+$', ''))
    - {{ decimal_exponent(raw_column) }}
{%- endmacro %}

{# The exponent of a number written as text (`e-12`, `E+3`), 0 without one or with one no integer reads. #}
{% macro decimal_exponent(raw_column) -%}
    coalesce(try_cast(split_part(lower(trim({{ raw_column }})), 'e', 2) as integer), 0)
{%- endmacro %}


{# A date written YYYY-MM-DD or YYYY/MM/DD, or an error naming the file. Dispatched: the default is
   the strict parse; DuckDB tries a cheaper parse first. #}
{% macro parse_quote_date(raw_column) %}
    {{- return(adapter.dispatch('parse_quote_date')(raw_column)) -}}
{% endmacro %}

{% macro default__parse_quote_date(raw_column) -%}
    {{ parsed_or_fail(try_parse_date(raw_column), raw_column, 'unparseable date') }}
{%- endmacro %}

{#- DuckDB, optimistic: ten characters shaped YYYY-MM-DD or YYYY/MM/DD, the first a digit, that the
    date cast takes are that date, as the strict parse reads them (the cast alone would also take a
    sign, a year of five digits, a time); any other value goes through the strict parse in the ELSE
    branch, evaluated only for the rows that reach it. -#}
{% macro duckdb__parse_quote_date(raw_column) -%}
    case
        when ({{ raw_column }} like '____-__-__' or {{ raw_column }} like '____/__/__')
            and {{ raw_column }} >= '0' and {{ raw_column }} < ':'
            and try_cast({{ raw_column }} as date) is not null
            then try_cast({{ raw_column }} as date)
        else {{ default__parse_quote_date(raw_column) }}
    end
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


{# Spark: one temporary view per file (CSV, every column text, in the order the file's header names
   them; FAILFAST: a missing file, a wrong column count or a malformed row fails the read), unioned
   into one view of the expected columns with the file's path as `filename`. The model's SQL names
   only that view, so it reads the same for any partitions and its code fingerprint does not change
   from one chunk to the next. #}
{% macro spark__read_partition_files() %}
    {%- set files_view = 'daily_partition_files' -%}
    {%- if execute -%}
        {%- set selects = [] -%}
        {%- for columns, paths in partition_files_by_columns() -%}
            {%- for path in paths -%}
                {%- set view = 'daily_file_' ~ (selects | length) -%}
                {%- do run_query(
                    "create or replace temporary view " ~ view ~ " (`" ~ columns | join("` string, `") ~ "` string)"
                    ~ " using csv options (path " ~ spark_string(path) ~ ", header 'true', sep ',', quote '\"',"
                    ~ " escape '\"', mode 'FAILFAST', multiLine 'false')"
                ) -%}
                {%- do selects.append(
                    "select " ~ daily_file_columns() | join(", ")
                    ~ ", regexp_replace(input_file_name(), '^file:(//)?', '') as filename from " ~ view
                ) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- do run_query("create or replace temporary view " ~ files_view ~ " as " ~ selects | join(" union all ")) -%}
    {%- endif -%}
    {{- return(files_view) -}}
{% endmacro %}


{# A Spark SQL string literal: backslashes and quotes escaped. #}
{% macro spark_string(text) -%}
    '{{ text | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}


{% macro spark__value_error(raw_column, what) -%}
    raise_error(concat(
        '{{ what }} in ', filename, ' (column {{ raw_column }}): ',
        coalesce(concat(chr(39), left({{ raw_column }}, 40), chr(39)), 'empty value')
    ))
{%- endmacro %}
