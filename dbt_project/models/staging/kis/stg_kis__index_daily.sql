select
    index_code,
    case index_code
        when '0001' then 'KOSPI'
        when '1001' then 'KOSDAQ'
        when '2001' then 'KOSPI 200'
    end as index_name,
    trade_date,
    open,
    high,
    low,
    close,
    volume_thousands::numeric * 1000 as volume,
    trading_value_mkrw::numeric * 1000000 as trading_value_krw,
    source
from {{ source('kis', 'index_daily') }}
