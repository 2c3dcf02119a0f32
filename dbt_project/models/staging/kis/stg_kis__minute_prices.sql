select
    stock_code,
    trade_date,
    bar_time,
    open,
    high,
    low,
    close,
    volume,
    source
from {{ source('kis', 'minute_prices') }}
