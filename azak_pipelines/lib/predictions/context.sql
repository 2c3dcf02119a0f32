-- Point-in-time reads for the context builder. Every query takes %(code)s and %(as_of)s and returns
-- an `available_at` column: when the row could first have been known. Nothing later than as_of.

-- name: bars
-- daily bars (adjusted) and indicators of the last 60 sessions closed by as_of
select p.trade_date, p.open::float8 as open, p.high::float8 as high, p.low::float8 as low,
       p.close::float8 as close, p.volume, p.return_1d, p.ma_5, p.ma_20, p.ma_60, p.rsi_14,
       p.macd, p.macd_signal, p.macd_histogram, p.bollinger_upper, p.bollinger_lower,
       td.close_at as available_at
from marts.daily_prices as p
join marts.trading_days as td on td.trading_date = p.trade_date
where p.stock_code = %(code)s and td.close_at <= %(as_of)s
order by p.trade_date desc
limit 60

-- name: flows
-- investor flows are published after the close (collected at 16:00 KST): 30 minutes after it
select f.trade_date, f.individual_net_qty, f.foreign_net_qty, f.institution_net_qty,
       td.close_at + interval '30 minutes' as available_at
from staging.stg_kis__investor_flows as f
join marts.trading_days as td on td.trading_date = f.trade_date
where f.stock_code = %(code)s and td.close_at + interval '30 minutes' <= %(as_of)s
order by f.trade_date desc
limit 5

-- name: ratios
-- a period's ratios are public once its report is due: 90 days after an annual period, 45 after a quarter
select r.period, r.period_kind, r.period_last_day, r.roe::float8 as roe, r.eps::float8 as eps,
       r.bps::float8 as bps, r.debt_ratio::float8 as debt_ratio, r.revenue_growth::float8 as revenue_growth,
       ((r.period_last_day + case when r.period_kind = 'annual' then 90 else 45 end)::timestamp
           at time zone 'Asia/Seoul') as available_at
from staging.stg_kis__financial_ratios as r
where r.stock_code = %(code)s
  and ((r.period_last_day + case when r.period_kind = 'annual' then 90 else 45 end)::timestamp
           at time zone 'Asia/Seoul') <= %(as_of)s
order by r.period_last_day desc, r.period_kind
limit 3

-- name: product
-- listing reference data (classification, risk grade): known from the listing day
select p.product_name, p.classification, p.risk_grade,
       (p.first_registered_on::timestamp at time zone 'Asia/Seoul') as available_at
from staging.stg_kis__product_info as p
where p.stock_code = %(code)s
  and (p.first_registered_on is null
       or (p.first_registered_on::timestamp at time zone 'Asia/Seoul') <= %(as_of)s)
limit 1

-- name: indices
select i.index_code, i.index_name, i.trade_date, i.close::float8 as close, i.return_1d,
       td.close_at as available_at
from marts.index_daily as i
join marts.trading_days as td on td.trading_date = i.trade_date
where i.index_code in ('0001', '1001') and td.close_at <= %(as_of)s
  and i.trade_date > (%(as_of)s at time zone 'Asia/Seoul')::date - 14
order by i.trade_date desc, i.index_code
limit 10

-- name: sectors
-- every sector index (any index but the composites) on the newest session closed by as_of, within
-- 14 days: the prompt shows the top and bottom three by return
with latest as (
    select max(i.trade_date) as trade_date
    from marts.index_daily as i
    join marts.trading_days as td on td.trading_date = i.trade_date
    where i.index_code <> all(%(composites)s) and td.close_at <= %(as_of)s
      and i.trade_date > (%(as_of)s at time zone 'Asia/Seoul')::date - 14
)
select i.index_code, i.index_name, i.trade_date, i.return_1d, td.close_at as available_at
from marts.index_daily as i
join latest on latest.trade_date = i.trade_date
join marts.trading_days as td on td.trading_date = i.trade_date
where i.index_code <> all(%(composites)s) and i.return_1d is not null
order by i.return_1d desc, i.index_code

-- name: dart
-- the stock's own filings of the last 7 days (a date-only filing counts from the end of its day)
with filings as (
    select a.news_id, a.title, a.summary,
           case when a.published_precision = 'day'
                then ((a.published_day + 1)::timestamp at time zone 'Asia/Seoul')
                else a.published_at end as available_at
    from marts.news_articles as a
    where (a.source = 'dart' or 'dart' = any(a.sources)) and %(code)s = any(a.stock_codes)
      and a.published_day >= (%(as_of)s at time zone 'Asia/Seoul')::date - 8
)
select news_id, title, summary, available_at from filings
where available_at <= %(as_of)s and available_at > %(as_of)s - interval '7 days'
order by available_at desc
limit 5

-- name: impact_history
-- what this stock's price did after its own earlier news, only horizons that had closed by as_of
with links as (
    select i.return_1d, i.return_5d, i.return_20d, td.session_number
    from marts.news_price_impact as i
    join marts.trading_days as td on td.trading_date = i.anchor_date
    where i.stock_code = %(code)s and i.salient and i.published_at <= %(as_of)s
      and i.published_at > %(as_of)s - interval '365 days'
)
select v.horizon, count(*) as n, avg(v.r) as mean_return, stddev_pop(v.r) as sd_return,
       max(t.close_at) as available_at
from links as l
cross join lateral (values (1, l.return_1d), (5, l.return_5d), (20, l.return_20d)) as v (horizon, r)
join marts.trading_days as t on t.session_number = l.session_number + v.horizon
where t.close_at <= %(as_of)s and v.r is not null
group by v.horizon
order by v.horizon

-- name: similar_outcomes
-- returns of the article's earlier similar articles about the same stock (the embeddings mart)
select o.horizon_days, o.n, o.mean_return, o.min_return, o.max_return, o.published_at as available_at
from marts.similar_news_outcomes as o
where o.news_id = %(news_id)s and o.stock_code = %(code)s and o.published_at <= %(as_of)s
order by o.horizon_days

-- name: similar_cases
-- the article's three most similar earlier articles about the same stock (computed.similar_news,
-- with a price impact for the stock), and what the price did after each: a horizon only once its
-- session had closed by as_of (available_at is the newest close shown)
with neighbours as (
    select s.rank, s.similarity, a.news_id, a.title, a.published_at, i.anchor_date,
           i.return_1d, i.return_5d, i.return_20d
    from computed.similar_news as s
    join marts.news_articles as a on a.news_id = s.neighbor_id
    join marts.news_price_impact as i on i.news_id = s.neighbor_id and i.stock_code = %(code)s
    where s.news_id = %(news_id)s and a.published_at <= %(as_of)s
    order by s.rank, s.similarity desc
    limit 3
)
select n.rank, n.similarity, n.news_id, n.title, n.published_at,
       max(v.r) filter (where v.h = 1 and t.close_at is not null) as return_1d,
       max(v.r) filter (where v.h = 5 and t.close_at is not null) as return_5d,
       max(v.r) filter (where v.h = 20 and t.close_at is not null) as return_20d,
       greatest(n.published_at, max(t.close_at)) as available_at
from neighbours as n
left join marts.trading_days as anchor on anchor.trading_date = n.anchor_date
cross join lateral (values (1, n.return_1d), (5, n.return_5d), (20, n.return_20d)) as v (h, r)
left join marts.trading_days as t
    on t.session_number = anchor.session_number + v.h and t.close_at <= %(as_of)s
group by n.rank, n.similarity, n.news_id, n.title, n.published_at
order by n.rank, n.similarity desc

-- name: recent_predictions
-- what the models said about this stock in the 7 days before as_of (successful outputs only)
select p.model_name, p.direction, count(*) as n, avg(p.probability) as mean_probability,
       max(p.made_at) as available_at
from computed.news_predictions as p
where p.stock_code = %(code)s and p.status = 'ok' and p.made_at <= %(as_of)s
  and p.made_at > %(as_of)s - interval '7 days'
group by p.model_name, p.direction
order by p.model_name, p.direction

-- name: stock
select stock_code, stock_name, market, industry from marts.stocks where stock_code = %(code)s

-- name: articles
-- salient links of articles published in a KST-day window, with their availability time
select a.news_id, m.stock_code, a.title, a.summary, a.published_at, a.published_day, m.score::float8,
       case when a.published_precision = 'day'
            then ((a.published_day + 1)::timestamp at time zone 'Asia/Seoul')
            else a.published_at end as available_at
from marts.news_articles as a
join marts.news_stock_matches as m on m.news_id = a.news_id
where a.published_day >= %(start)s and a.published_day < %(end)s and m.salient
  and m.stock_code = any(%(codes)s) and coalesce(a.is_canonical, true)
order by a.published_at, a.news_id, m.stock_code
