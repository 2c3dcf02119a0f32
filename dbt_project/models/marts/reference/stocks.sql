select
    stock_code,
    stock_name,
    market,
    section,
    industry,
    listed_on,
    market_cap,
    listed_shares,
    is_watchlist
from {{ ref('stg_krx__stocks') }}
