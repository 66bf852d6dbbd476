{# The days of this batch, [event_time_start, event_time_end): ISO date strings. Outside a batch
   (parse, compile), the `begin` day, so the model still renders. #}
{% macro batch_days() %}
    {%- set batch = model.get('batch') if model is mapping else model.batch -%}
    {%- if not batch -%}
        {{ return([config.get('begin') | string]) }}
    {%- endif -%}
    {%- set start_text = (batch.get('event_time_start') if batch is mapping else batch.event_time_start) | string -%}
    {%- set end_text = (batch.get('event_time_end') if batch is mapping else batch.event_time_end) | string -%}
    {%- set day = modules.datetime.date.fromisoformat(start_text[:10]) -%}
    {%- set end = modules.datetime.date.fromisoformat(end_text[:10]) -%}
    {%- set days = [] -%}
    {%- for offset in range((end - day).days) -%}
        {%- do days.append((day + modules.datetime.timedelta(days=offset)).isoformat()) -%}
    {%- endfor -%}
    {{ return(days) }}
{% endmacro %}


{# This batch's files, read as text with their names: the product's read_partition_files. #}
{% macro read_batch_files() %}
    read_csv(
        [
            {%- for day in batch_days() %}
            '{{ var("source_dir") | string | replace("'", "''") }}/{{ day }}.csv'{{ "," if not loop.last }}
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


{# The product's parsed_or_fail / parse_decimal / parse_quote_date (macros/daily_files.sql). #}
{% macro parsed_or_fail(parsed, raw_column, what) -%}
    case
        when {{ parsed }} is not null then {{ parsed }}
        else error(
            '{{ what }} in ' || filename || ' (column {{ raw_column }}): '
            || coalesce('''' || {{ raw_column }} || '''', 'empty value')
        )
    end
{%- endmacro %}

{% macro parse_decimal(raw_column) -%}
    {{ parsed_or_fail(
        "case when length(rtrim(split_part(trim(" ~ raw_column ~ "), '.', 2), '0')) <= 10 then try_cast(trim("
        ~ raw_column ~ ") as decimal(38, 10)) end",
        raw_column, 'unparseable number') }}
{%- endmacro %}

{% macro parse_quote_date(raw_column) -%}
    {{ parsed_or_fail(
        "cast(coalesce(try_strptime(trim(" ~ raw_column ~ "), '%Y-%m-%d'), try_strptime(trim("
        ~ raw_column ~ "), '%Y/%m/%d')) as date)",
        raw_column, 'unparseable date') }}
{%- endmacro %}
