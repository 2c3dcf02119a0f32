{#-
  One price source, explicitly adjusted: indicators use adjusted closes only.
  Every indicator is NULL until its look-back is complete (never a partial-window value).
-#}
with bars as (
    select *
    from {{ ref('stg_kis__daily_prices') }}
    where price_basis = 'adjusted'
),

changes as (
    select
        *,
        row_number() over w as bar_number,
        close::double precision as px,
        close::double precision - lag(close::double precision) over w as delta
    from bars
    window w as (partition by stock_code order by trade_date)
),

smoothed as (
    select
        *,
        -- greatest() ignores NULL, so the first bar (no change yet) must stay NULL explicitly
        marts.seeded_ema(case when delta is not null then greatest(delta, 0) end, 14, 1.0 / 14)
            over w as avg_gain_14,
        marts.seeded_ema(case when delta is not null then greatest(-delta, 0) end, 14, 1.0 / 14)
            over w as avg_loss_14,
        marts.seeded_ema(px, 12, 2.0 / 13) over w as ema_12,
        marts.seeded_ema(px, 26, 2.0 / 27) over w as ema_26,
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
        ema_12 - ema_26 as macd_line
    from smoothed
),

with_signal as (
    select
        *,
        marts.seeded_ema(macd_line, 9, 0.2) over (
            partition by stock_code order by trade_date
        ) as macd_signal_line
    from with_macd
)

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
    macd_signal_line as macd_signal,
    macd_line - macd_signal_line as macd_histogram,
    case when bar_number >= 20 then mean_20 end as bollinger_mid,
    case when bar_number >= 20 then mean_20 + 2 * sd_20 end as bollinger_upper,
    case when bar_number >= 20 then mean_20 - 2 * sd_20 end as bollinger_lower,
    source
from with_signal
