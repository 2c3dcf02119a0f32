{#-
  One price source, explicitly adjusted: indicators use adjusted closes only.
  Every indicator is NULL until its look-back is complete (never a partial-window value).

  Incremental: a run recomputes each stock only from the first day where its raw bars and this
  table disagree (a new day, a corrected bar, a split that re-adjusted the history, a bar that
  disappeared). The rolling windows re-read the 59 stored bars before that day, and the smoothed
  averages resume from the state stored with the last of them (*_state columns), so the result is
  exactly a full rebuild's (tests/dbt/test_incremental_marts.py). Stocks that did not change are
  not rewritten. `dbt build --full-refresh` (azak marts --full-refresh) rebuilds everything.
-#}
{{ config(materialized='incremental', incremental_strategy='resume_from', on_schema_change='fail',
          unique_key='stock_code', resume_order_by='trade_date') }}

{%- set lookback = 59 %}

with bars as (
    select *
    from {{ ref('stg_kis__daily_prices') }}
    where price_basis = 'adjusted'
),

{% if is_incremental() %}
-- the first day per stock where the raw bars and this table disagree (the pre-hook, in the .yml)
restart as (
    select p.* from {{ resume_points_table() }} as p
),

-- the stored bars each rolling window needs before that day, and the state to resume from
context as (
    select m.*
    from restart as r
    cross join lateral (
        select m.* from {{ this }} as m
        where m.stock_code = r.stock_code and m.trade_date < r.since
        order by m.trade_date desc
        limit {{ lookback }}
    ) as m
),

resume as (
    select distinct on (stock_code)
        stock_code, bar_number, gain_state, loss_state, ema_12_state, ema_26_state, macd_signal_state
    from context
    order by stock_code asc, trade_date desc
),

inputs as (
    select
        c.stock_code, c.trade_date, true as is_context, c.open, c.high, c.low, c.close, c.volume,
        c.trading_value, c.is_halt, c.source
    from context as c
    union all
    select
        b.stock_code, b.trade_date, false as is_context, b.open, b.high, b.low, b.close, b.volume,
        b.trading_value, b.is_halt, b.source
    from bars as b
    join restart as r on r.stock_code = b.stock_code and b.trade_date >= r.since
),
{% else %}
inputs as (
    select
        stock_code, trade_date, false as is_context, open, high, low, close, volume,
        trading_value, is_halt, source
    from bars
),

resume as (
    select
        null::text as stock_code,
        0::bigint as bar_number,
        null::double precision[] as gain_state,
        null::double precision[] as loss_state,
        null::double precision[] as ema_12_state,
        null::double precision[] as ema_26_state,
        null::double precision[] as macd_signal_state
    where false
),
{% endif %}

seeded as (
    select
        i.*,
        coalesce(s.bar_number, 0) as bars_before,
        coalesce(s.gain_state, '{0,0,NULL}') as gain_seed,
        coalesce(s.loss_state, '{0,0,NULL}') as loss_seed,
        coalesce(s.ema_12_state, '{0,0,NULL}') as ema_12_seed,
        coalesce(s.ema_26_state, '{0,0,NULL}') as ema_26_seed,
        coalesce(s.macd_signal_state, '{0,0,NULL}') as macd_signal_seed
    from inputs as i
    left join resume as s on s.stock_code = i.stock_code
),

changes as (
    select
        *,
        count(*) filter (where not is_context) over w as bar_in_run,
        close::double precision as px,
        close::double precision - lag(close::double precision) over w as delta
    from seeded
    window w as (partition by stock_code order by trade_date)
),

smoothed as (
    select
        *,
        -- greatest() ignores NULL, so the first bar (no change yet) must stay NULL explicitly
        marts.ema_state(
            case when delta is not null then greatest(delta, 0) end, 14, 1.0 / 14, gain_seed
        ) filter (where not is_context) over w as gain_state,
        marts.ema_state(
            case when delta is not null then greatest(-delta, 0) end, 14, 1.0 / 14, loss_seed
        ) filter (where not is_context) over w as loss_state,
        marts.ema_state(px, 12, 2.0 / 13, ema_12_seed) filter (where not is_context) over w as ema_12_state,
        marts.ema_state(px, 26, 2.0 / 27, ema_26_seed) filter (where not is_context) over w as ema_26_state,
        avg(px) over (w rows between 4 preceding and current row) as mean_5,
        avg(px) over (w rows between 19 preceding and current row) as mean_20,
        avg(px) over (w rows between 59 preceding and current row) as mean_60,
        stddev_pop(px) over (w rows between 19 preceding and current row) as sd_20
    from changes
    window w as (partition by stock_code order by trade_date)
),

with_macd as (
    select
        *,
        bars_before + bar_in_run as bar_number,
        gain_state[3] as avg_gain_14,
        loss_state[3] as avg_loss_14,
        ema_12_state[3] - ema_26_state[3] as macd_line
    from smoothed
),

with_signal as (
    select
        *,
        marts.ema_state(macd_line, 9, 0.2, macd_signal_seed) filter (where not is_context) over (
            partition by stock_code order by trade_date
        ) as macd_signal_state
    from with_macd
),

final as (
    select
        stock_code,
        trade_date,
        open,
        high,
        low,
        close,
        volume,
        trading_value,
        is_halt,
        px / nullif(px - delta, 0) - 1 as return_1d,
        case when bar_number >= 5 then mean_5 end as ma_5,
        case when bar_number >= 20 then mean_20 end as ma_20,
        case when bar_number >= 60 then mean_60 end as ma_60,
        case
            when avg_loss_14 is null then null
            when avg_loss_14 = 0 and avg_gain_14 = 0 then null  -- no movement at all: undefined
            when avg_loss_14 = 0 then 100
            else 100 - 100 / (1 + avg_gain_14 / avg_loss_14)
        end as rsi_14,
        macd_line as macd,
        macd_signal_state[3] as macd_signal,
        macd_line - macd_signal_state[3] as macd_histogram,
        case when bar_number >= 20 then mean_20 end as bollinger_mid,
        case when bar_number >= 20 then mean_20 + 2 * sd_20 end as bollinger_upper,
        case when bar_number >= 20 then mean_20 - 2 * sd_20 end as bollinger_lower,
        source,
        bar_number,
        gain_state,
        loss_state,
        ema_12_state,
        ema_26_state,
        macd_signal_state
    from with_signal
    where not is_context
)

select
    *,
    -- the bar as the API sends it (macros/bar_json.sql), written with the bar
    marts.daily_bar_json(
        trade_date, open, high, low, close, volume, is_halt, return_1d, ma_5, ma_20, ma_60, rsi_14, macd,
        macd_signal, macd_histogram, bollinger_upper, bollinger_mid, bollinger_lower
    ) as bar_json
from final
