with source as (
    select * from {{ source('krx', 'stocks') }}
)

select
    code as stock_code,
    name as stock_name,
    market,
    section,
    industry,
    listed_on,
    close::numeric(14, 2) as snapshot_close,
    market_cap,
    listed_shares,
    is_watchlist,
    source
from source
