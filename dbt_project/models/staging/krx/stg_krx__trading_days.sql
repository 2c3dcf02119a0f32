with source as (
    select * from {{ source('krx', 'trading_calendar') }}
)

select
    day as trading_date,
    session_number,
    open_at,
    close_at,
    pre_market_open_at,
    after_hours_close_at
from source
where is_trading_day
