select
    trading_date,
    session_number,
    open_at,
    close_at
from {{ ref('stg_krx__trading_days') }}
