select
    trade_date,
    ranking,
    rank,
    stock_code,
    stock_name,
    price,
    change,
    change_rate,
    volume,
    trading_value,
    captured_at,
    source
from {{ source('kis', 'market_rankings') }}
