-- names: the composites here, the sectors from the seed kis_sectors (checked against KIS's master)
select
    i.index_code,
    coalesce(
        case i.index_code
            when '0001' then 'KOSPI'
            when '1001' then 'KOSDAQ'
            when '2001' then 'KOSPI 200'
        end,
        s.index_name
    ) as index_name,
    i.trade_date,
    i.open,
    i.high,
    i.low,
    i.close,
    i.volume_thousands::numeric * 1000 as volume,
    i.trading_value_mkrw::numeric * 1000000 as trading_value_krw,
    i.source
from {{ source('kis', 'index_daily') }} as i
left join {{ ref('kis_sectors') }} as s on s.index_code = i.index_code
