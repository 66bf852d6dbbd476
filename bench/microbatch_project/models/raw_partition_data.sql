-- The product's staging + raw_partition_data in one microbatch model: each batch (one day,
-- event_time = the file's date) reads its own file, typed exactly like stg_daily_files__quotes.
{{ config(
    materialized='incremental',
    incremental_strategy='microbatch',
    event_time='partition_date',
    begin='2018-01-01',
    batch_size='day',
) }}

with

source as (
    select * from {{ read_batch_files() }}
),

parsed as (
    select
        cast(regexp_extract(filename, '([0-9]{4}-[0-9]{2}-[0-9]{2})\.csv$', 1) as date) as partition_date,
        {{ parse_quote_date('date') }} as quote_date,
        {{ parse_decimal('spend') }} as open_price,
        {{ parse_decimal('shift') }} as high_price,
        {{ parse_decimal('spread') }} as low_price,
        {{ parse_decimal('share_price') }} as close_price,
        {{ parse_decimal('amount') }} as volume,
        filename as source_file
    from source
),

final as (
    select * from parsed
)

select * from final
