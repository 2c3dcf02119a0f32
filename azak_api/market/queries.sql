-- name: session_of
-- that KST day's session (NULLs on a day without one) and the span the calendar covers
select
    (select min(trading_date) from marts.trading_days) as first_day,
    (select max(trading_date) from marts.trading_days) as last_day,
    d.open_at,
    d.close_at
from (select 1) as one
left join marts.trading_days as d on d.trading_date = :day

-- name: ratios_known_on
-- Point in time: the newest annual ratios filed by :day. A business report (사업보고서) is due
-- within 90 days of the year's end and KIS gives no filing date, so a year's figures count as
-- known from its 91st day on; never a period that ends after :day.
select period, period_kind, eps, bps, source
from staging.stg_kis__financial_ratios
where
    stock_code = :code
    and period_kind = 'annual'
    and period_last_day + 90 < :day
order by period_last_day desc
limit 1

-- name: movers
-- the biggest rises and falls of the latest session by :day among the stocks with daily bars
(
    select p.stock_code as code, coalesce(s.stock_name, p.stock_code) as name, p.trade_date,
        p.close::float8 as close, p.return_1d * 100 as change_pct, p.volume, 'gainer' as side
    from marts.daily_prices as p
    left join marts.stocks as s on s.stock_code = p.stock_code
    where p.trade_date = (select max(trade_date) from marts.daily_prices where trade_date <= :day) and p.return_1d > 0
    order by p.return_1d desc, p.stock_code
    limit :n
)
union all
(
    select p.stock_code as code, coalesce(s.stock_name, p.stock_code) as name, p.trade_date,
        p.close::float8 as close, p.return_1d * 100 as change_pct, p.volume, 'loser' as side
    from marts.daily_prices as p
    left join marts.stocks as s on s.stock_code = p.stock_code
    where p.trade_date = (select max(trade_date) from marts.daily_prices where trade_date <= :day) and p.return_1d < 0
    order by p.return_1d, p.stock_code
    limit :n
)

-- name: latest_reports_of
-- each stock's newest successful report by an active model
select distinct on (r.stock_code)
    r.stock_code, r.model_name, r.direction, r.probability, r.recommendation, r.made_at
from computed.stock_reports as r
inner join app.models as m on m.id = r.model_id and m.active
where r.stock_code = any(:codes) and r.status = 'ok' and r.made_at <= :now
order by r.stock_code, r.made_at desc, r.created_at desc

-- name: net_buyers
-- the latest session's largest net buyers by value, foreign and institutional investors
(
    select 'foreign' as investor, f.stock_code as code, coalesce(s.stock_name, f.stock_code) as name,
        f.trade_date, f.foreign_net_value_krw::bigint as net_value_krw, f.foreign_net_qty as net_quantity
    from staging.stg_kis__investor_flows as f
    left join marts.stocks as s on s.stock_code = f.stock_code
    where f.trade_date = (select max(trade_date) from staging.stg_kis__investor_flows where trade_date <= :day)
        and f.foreign_net_value_krw > 0
    order by f.foreign_net_value_krw desc, f.stock_code
    limit :n
)
union all
(
    select 'institution' as investor, f.stock_code as code, coalesce(s.stock_name, f.stock_code) as name,
        f.trade_date, f.institution_net_value_krw::bigint as net_value_krw,
        f.institution_net_qty as net_quantity
    from staging.stg_kis__investor_flows as f
    left join marts.stocks as s on s.stock_code = f.stock_code
    where f.trade_date = (select max(trade_date) from staging.stg_kis__investor_flows where trade_date <= :day)
        and f.institution_net_value_krw > 0
    order by f.institution_net_value_krw desc, f.stock_code
    limit :n
)

-- name: indices
-- each index's latest level; sectors are every index but the market composites
select distinct on (index_code)
    index_code as code, index_name as name, trade_date, close::float8 as close,
    return_1d * 100 as change_pct
from marts.index_daily
where trade_date <= :day
order by index_code, trade_date desc

-- name: prediction_counts
-- news-impact predictions of the latest KST day that has any (up to now), by direction
with latest as (
    select max((made_at at time zone 'Asia/Seoul')::date) as day
    from computed.news_predictions
    where status = 'ok' and made_at <= :now
)
select latest.day, coalesce(p.direction, 'none') as direction, count(*) as n
from computed.news_predictions as p
inner join latest on (p.made_at at time zone 'Asia/Seoul')::date = latest.day
where p.status = 'ok' and p.made_at <= :now
group by latest.day, p.direction

-- name: ranked_movers
-- KIS's market-wide rankings of the latest day by :day that has one taken by :now: the first :n
-- of each ranking (rise, fall, volume)
select
    r.ranking, r.stock_code as code, coalesce(s.stock_name, r.stock_name, r.stock_code) as name,
    r.trade_date, r.price::float8 as close, r.change_rate::float8 as change_pct, r.volume,
    r.captured_at, r.source
from staging.stg_kis__market_rankings as r
left join marts.stocks as s on s.stock_code = r.stock_code
where
    r.trade_date = (
        select max(trade_date) from staging.stg_kis__market_rankings
        where trade_date <= :day and captured_at <= :now
    )
    and r.captured_at <= :now and r.rank <= :n and r.volume is not null and r.change_rate is not null
order by r.ranking, r.rank
