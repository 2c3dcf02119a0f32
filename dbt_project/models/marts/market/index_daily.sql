select
    index_code,
    index_name,
    trade_date,
    open,
    high,
    low,
    close,
    close::double precision
    / nullif(lag(close::double precision) over (partition by index_code order by trade_date), 0)
    - 1 as return_1d
from {{ ref('stg_kis__index_daily') }}
