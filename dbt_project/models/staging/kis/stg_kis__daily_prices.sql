select
    stock_code,
    trade_date,
    price_basis,
    open,
    high,
    low,
    close,
    volume,
    trading_value,
    volume = 0 as is_halt,
    source,
    fetched_at
from {{ source('kis', 'daily_prices') }}
