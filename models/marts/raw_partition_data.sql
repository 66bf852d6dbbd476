-- Every loaded row, one partition per file. Each run replaces its partitions whole
-- (the marts' pre-hook clears them in the same transaction as the insert).
with

quotes as (
    select * from {{ ref('stg_daily_files__quotes') }}
    where {{ partition_predicate() }}
),

final as (
    select
        partition_date,
        quote_date,
        open_price,
        high_price,
        low_price,
        close_price,
        volume,
        source_file
    from quotes
)

select * from final
