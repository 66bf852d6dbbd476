-- One row per sale, from the run's daily Parquet files. A row's partition is its file's day.
select
    case filename
        {%- for day in sales_days() %}
        when '{{ sales_file(day) }}' then date '{{ day }}'
        {%- endfor %}
    end as partition_date,
    cast(sold_at as timestamp) as sold_at,
    store,
    sku,
    cast(quantity as integer) as quantity,
    cast(amount as decimal(12, 2)) as amount
from read_parquet([
    {%- for day in sales_days() %}'{{ sales_file(day) }}'{{ ", " if not loop.last }}{% endfor -%}
], filename = true)
