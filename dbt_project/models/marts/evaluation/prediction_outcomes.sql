{#-
  What happened after every prediction that was made (status ok): one row per prediction,
  re-evaluated on every run until it is final, never written once and left.

  - anchor: the first session whose close is at or after made_at (macro anchor_session, the rule
    of news_price_impact); base: the stated base price, else the anchor close;
  - window: sessions anchor+1 … anchor+h (h = horizon_sessions), KRX calendar, one adjusted price
    source (marts.daily_prices);
  - realised_return = close(last observed window session) / base − 1 — the final return once
    anchor+h has closed; excess_return subtracts KOSPI (0001) over the same sessions;
  - direction_hit: up and r > 0, down and r < 0, neutral and |r| < neutral_band;
  - target/stop, direction-aware (up: high ≥ target, low ≤ stop; down: low ≤ target, high ≥ stop);
    halt days have no high/low and touch nothing; outcome = the first touched, and both in one
    session (order unknown) counts as the stop, flagged `ambiguous_session`;
  - sigma_60: sample σ of the 60 daily returns before made_at (sessions anchor−60 … anchor−1);
    NULL with fewer than 60;
  - status: pending (no window session observed) → partial → final (all h window sessions have a
    bar and a base exists). A session that has closed (≤ the latest priced session) without a
    bar for the stock is counted in missing_sessions and keeps the row partial.
  Incremental: rows already final are kept; everything else is recomputed.
-#}
{{ config(
    materialized='incremental',
    unique_key='evaluation_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}
{% set neutral_band = var('evaluation_neutral_band') %}

{% if is_incremental() %}
-- the predictions already final: kept as they are
with final as (
    select done.evaluation_id
    from {{ this }} as done
    where done.status = 'final'
),
{% else %}
with final as (
    select null::text as evaluation_id
    where false
),
{% endif %}

items as (
    select i.*
    from {{ ref('stg_predictions__items') }} as i
    where
        i.status = 'ok'
        and i.direction in ('up', 'down', 'neutral')
        and i.horizon_sessions >= 1
        and not exists (
            select 1 from final as f
            where f.evaluation_id = i.evaluation_id
        )
),

anchored as (
    select
        i.*,
        {{ anchor_session('i.made_at') }} as anchor_session
    from items as i
),

bars as (
    select
        p.stock_code,
        td.session_number,
        td.trading_date,
        p.high::double precision as high,
        p.low::double precision as low,
        p.close::double precision as close,
        p.return_1d
    from {{ ref('daily_prices') }} as p
    join {{ ref('trading_days') }} as td on td.trading_date = p.trade_date
),

kospi as (
    select
        td.session_number,
        i.close::double precision as close
    from {{ ref('index_daily') }} as i
    join {{ ref('trading_days') }} as td on td.trading_date = i.trade_date
    where i.index_code = '0001'
),

latest as (
    select max(session_number) as latest_session from bars
),

based as (
    select
        a.*,
        anchor_bar.close as anchor_close,
        coalesce(a.base_price, anchor_bar.close) as base,
        case when a.base_price is not null then 'stated' when anchor_bar.close is not null then 'anchor_close' end
            as base_source
    from anchored as a
    left join bars as anchor_bar
        on anchor_bar.stock_code = a.stock_code and anchor_bar.session_number = a.anchor_session
),

window_bars as (
    select
        b.evaluation_id,
        k.n as day_n,
        w.close,
        w.high,
        w.low,
        b.anchor_session + k.n <= l.latest_session as is_due,
        case
            when b.direction = 'up' then w.high >= b.target_price
            when b.direction = 'down' then w.low <= b.target_price
        end as target_touch,
        case
            when b.direction = 'up' then w.low <= b.stop_price
            when b.direction = 'down' then w.high >= b.stop_price
        end as stop_touch
    from based as b
    cross join latest as l
    cross join lateral generate_series(1, b.horizon_sessions) as k (n)
    left join bars as w
        on w.stock_code = b.stock_code and w.session_number = b.anchor_session + k.n
    where b.anchor_session is not null
),

window_summary as (
    select
        evaluation_id,
        count(close)::integer as sessions_observed,
        (count(*) filter (where is_due) - count(close) filter (where is_due))::integer as missing_sessions,
        max(day_n) filter (where close is not null) as last_observed_n,
        min(day_n) filter (where target_touch) as target_first_days,
        min(day_n) filter (where stop_touch) as stop_first_days,
        max(high) as window_high,
        min(low) as window_low
    from window_bars
    group by evaluation_id
),

volatility as (
    select
        b.evaluation_id,
        count(v.return_1d) as n_returns,
        stddev_samp(v.return_1d) as sigma
    from based as b
    join bars as v
        on
            v.stock_code = b.stock_code
            and v.session_number between b.anchor_session - 60 and b.anchor_session - 1
    group by b.evaluation_id
),

measured as (
    select
        b.*,
        coalesce(s.sessions_observed, 0) as sessions_observed,
        coalesce(s.missing_sessions, 0)
        -- no stated base and no anchor bar although the anchor session has closed: missing too
        + case when b.base is null and b.anchor_session <= l.latest_session then 1 else 0 end as missing_sessions,
        s.target_first_days,
        s.stop_first_days,
        s.window_high,
        s.window_low,
        last_bar.trading_date as last_observed_date,
        last_bar.close as last_close,
        last_bar.close / nullif(b.base, 0) - 1 as realised_return,
        k_last.close / nullif(k0.close, 0) - 1 as kospi_return,
        case when vol.n_returns = 60 then vol.sigma end as sigma_60,
        case
            when
                s.stop_first_days is not null
                and (s.target_first_days is null or s.stop_first_days <= s.target_first_days) then 'stop'
            when s.target_first_days is not null then 'target'
            when b.target_price is not null or b.stop_price is not null then 'none'
        end as outcome
    from based as b
    cross join latest as l
    left join window_summary as s on s.evaluation_id = b.evaluation_id
    left join bars as last_bar
        on last_bar.stock_code = b.stock_code and last_bar.session_number = b.anchor_session + s.last_observed_n
    left join kospi as k0 on k0.session_number = b.anchor_session
    left join kospi as k_last on k_last.session_number = b.anchor_session + s.last_observed_n
    left join volatility as vol on vol.evaluation_id = b.evaluation_id
)

select
    m.evaluation_id,
    m.source_kind,
    m.item_id,
    m.model_id,
    m.model_name,
    m.mode,
    m.stock_code,
    m.news_id,
    m.made_at,
    m.horizon_sessions,
    m.direction,
    m.probability,
    m.base as base_price,
    m.base_source,
    m.target_price,
    m.stop_price,
    anchor_day.trading_date as anchor_date,
    m.anchor_close,
    end_day.trading_date as window_end_date,
    m.sessions_observed,
    m.missing_sessions,
    m.last_observed_date,
    case
        when m.sessions_observed = m.horizon_sessions and m.base is not null then 'final'
        when m.sessions_observed = 0 and m.missing_sessions = 0 then 'pending'
        else 'partial'
    end as status,
    m.last_close,
    m.realised_return,
    m.kospi_return,
    m.realised_return - m.kospi_return as excess_return,
    case
        when m.realised_return is null then null
        when m.direction = 'up' then m.realised_return > 0
        when m.direction = 'down' then m.realised_return < 0
        else abs(m.realised_return) < {{ neutral_band }}
    end as direction_hit,
    {{ neutral_band }}::double precision as neutral_band,
    m.target_first_days,
    m.stop_first_days,
    m.outcome,
    case m.outcome when 'target' then m.target_first_days when 'stop' then m.stop_first_days end
        as outcome_days,
    outcome_day.trading_date as outcome_date,
    coalesce(m.outcome = 'stop' and m.stop_first_days = m.target_first_days, false) as ambiguous_session,
    m.window_high,
    m.window_low,
    m.sigma_60
from measured as m
left join {{ ref('trading_days') }} as anchor_day on anchor_day.session_number = m.anchor_session
left join {{ ref('trading_days') }} as end_day
    on end_day.session_number = m.anchor_session + m.horizon_sessions
left join {{ ref('trading_days') }} as outcome_day
    on
        outcome_day.session_number = m.anchor_session
        + case m.outcome when 'target' then m.target_first_days when 'stop' then m.stop_first_days end
