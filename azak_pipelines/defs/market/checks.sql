-- name: ohlc_violations
-- Adjusted prices are rounded one by one by the vendor, so an adjusted bar may miss its range by
-- 1 KRW; anything beyond that (or any miss on raw prices) is a real violation.
select stock_code, trade_date, price_basis, open, high, low, close, volume
from raw.daily_prices
where volume < 0
   or (low is not null and high is not null
       and (low > high
            or least(open, close) - low < -(case when price_basis = 'adjusted' then 1 else 0 end)
            or high - greatest(open, close) < -(case when price_basis = 'adjusted' then 1 else 0 end)))
order by trade_date, stock_code
limit 50;

-- name: ohlc_rounding
select stock_code, trade_date, open, high, low, close
from raw.daily_prices
where price_basis = 'adjusted' and low is not null and high is not null
  and (low > least(open, close) or high < greatest(open, close))
  and least(open, close) - low >= -1 and high - greatest(open, close) >= -1
order by trade_date, stock_code;

-- name: key_enforced
-- The unique index that holds a table to one row per natural key (its columns, sorted), when it is
-- valid on every partition: PostgreSQL then refuses a duplicate, so none can be stored.
select c.conname
from pg_constraint c
join pg_index i on i.indexrelid = c.conindid
where c.conrelid = %(table)s::regclass and c.contype in ('u', 'p') and i.indisvalid
  and (select array_agg(a.attname::text order by a.attname)
       from pg_attribute a
       where a.attrelid = c.conrelid and a.attnum = any(c.conkey))
      = %(key)s::text[]
limit 1;

-- name: duplicate_keys
select stock_code, trade_date, price_basis, count(*) as copies
from raw.daily_prices
group by 1, 2, 3
having count(*) > 1
limit 50;

-- name: missing_sessions
with spans as (
    select p.stock_code, min(p.trade_date) as first_day, max(p.trade_date) as last_day
    from raw.daily_prices p
    join raw.stocks s on s.code = p.stock_code and s.is_watchlist
    where p.price_basis = 'adjusted'
    group by p.stock_code
)
select s.stock_code, c.day as trade_date
from spans s
join raw.trading_calendar c on c.is_trading_day and c.day between s.first_day and s.last_day
left join raw.daily_prices p
    on p.stock_code = s.stock_code and p.trade_date = c.day and p.price_basis = 'adjusted'
where p.stock_code is null
order by 1, 2;

-- name: halts
select stock_code, trade_date, close
from raw.daily_prices
where volume = 0 and price_basis = 'adjusted'
    and trade_date between %(first)s and %(last)s
order by stock_code, trade_date;

-- name: limit_breaches
-- The moves of the days a run wrote, each against the stock's bar before it: within the days from
-- a window over them, and for a stock's first day there from its last bar before them (one index
-- lookup), so a run of one day does not sort the whole table.
with moves as (
    select stock_code, trade_date, close,
           coalesce(lag(close) over (partition by stock_code order by trade_date),
                    (select b.close
                     from raw.daily_prices b
                     where b.stock_code = p.stock_code and b.price_basis = 'adjusted'
                         and b.trade_date < %(first)s
                     order by b.trade_date desc
                     limit 1)) as previous_close
    from raw.daily_prices p
    where price_basis = 'adjusted' and trade_date between %(first)s and %(last)s
)
select stock_code, trade_date, previous_close, close,
       round((close / previous_close - 1) * 100, 2) as move_pct
from moves
where previous_close > 0 and abs(close / previous_close - 1) > 0.30
order by stock_code, trade_date;
