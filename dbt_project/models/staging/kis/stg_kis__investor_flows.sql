select
    stock_code,
    trade_date,
    close,
    individual_net_qty,
    foreign_net_qty,
    institution_net_qty,
    individual_net_value_mkrw::numeric * 1000000 as individual_net_value_krw,
    foreign_net_value_mkrw::numeric * 1000000 as foreign_net_value_krw,
    institution_net_value_mkrw::numeric * 1000000 as institution_net_value_krw,
    source
from {{ source('kis', 'investor_flows') }}
