select partition_date, store, count(*) as sales, sum(amount) as takings
from {{ ref('sale_lines') }}
where partition_date in ({{ sales_days_sql() }})
group by partition_date, store
