select
    stock_code,
    trade_date,
    price,
    change,
    change_rate,
    volume,
    trading_value,
    source
from {{ source('kis', 'overtime_prices') }}
