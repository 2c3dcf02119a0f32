select
    stock_code,
    trade_date,
    bar_time,
    open,
    high,
    low,
    close,
    volume
from {{ ref('stg_kis__minute_prices') }}
