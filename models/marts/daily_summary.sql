-- One row per partition: the day's quotes summed up, with the exchange calendar.
-- An empty day keeps its row, with a quote count of zero.
with

partitions as (
    {{ partition_spine() }}
),

quotes as (
    select * from {{ ref('raw_partition_data') }}
    where {{ partition_predicate() }}
),

holidays as (
    select * from {{ ref('nyse_holidays') }}
),

per_partition as (
    select
        partition_date,
        count(*) as quote_count,
        min(quote_date) as first_quote_date,
        max(quote_date) as last_quote_date,
        min(low_price) as low_price,
        max(high_price) as high_price,
        sum(volume) as total_volume,
        -- a double: price times volume at 10 decimals each would overflow any decimal; summed in
        -- an order of its own, so that a day loaded alone or in a chunk gets the same digits
        {{ ordered_sum('cast(close_price as double) * cast(volume as double)') }}
        / nullif(cast(sum(volume) as double), 0) as volume_weighted_close
    from quotes
    group by partition_date
),

final as (
    select
        partitions.partition_date,
        coalesce(per_partition.quote_count, 0) as quote_count,
        per_partition.first_quote_date,
        per_partition.last_quote_date,
        per_partition.low_price,
        per_partition.high_price,
        coalesce(per_partition.total_volume, 0) as total_volume,
        per_partition.volume_weighted_close,
        holidays.holiday_name,
        -- the exchange is shut on weekends and its holidays
        (
            {{ day_of_week('partitions.partition_date') }} not in (0, 6)
            and holidays.holiday_date is null
        ) as is_trading_day
    from partitions
    left join per_partition on partitions.partition_date = per_partition.partition_date
    left join holidays on partitions.partition_date = holidays.holiday_date
)

select * from final
