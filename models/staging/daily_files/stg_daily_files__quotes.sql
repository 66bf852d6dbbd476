-- depends_on: {{ source('daily_files', 'daily_quotes') }}
-- One table per invocation: the rows of this run's partition files, typed and checked.
-- Its tests gate the load, since raw_partition_data is built only when they pass.
with

source as (
    select * from {{ read_partition_files() }}
),

parsed as (
    select
        -- partition: the file's date, never the row's own
        {{ partition_date_of_file('filename') }} as partition_date,
        {{ parse_quote_date('date') }} as quote_date,

        -- prices
        {{ parse_decimal('spend') }} as open_price,
        {{ parse_decimal('shift') }} as high_price,
        {{ parse_decimal('spread') }} as low_price,
        {{ parse_decimal('share_price') }} as close_price,

        -- volume
        {{ parse_decimal('amount') }} as volume,

        -- lineage
        filename as source_file
    from source
),

final as (
    select * from parsed
)

select * from final
