select
    stock_code,
    period,
    period_kind,
    (period_end - interval '1 day')::date as period_last_day,
    revenue_growth,
    operating_income_growth,
    net_income_growth,
    roe,
    eps,
    bps,
    debt_ratio,
    reserve_ratio,
    source
from {{ source('kis', 'financial_ratios') }}
