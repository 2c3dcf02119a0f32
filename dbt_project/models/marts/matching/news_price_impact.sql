{#-
  For every article-company link: the return from the anchor close to T+n sessions, and the excess
  over KOSPI. The anchor is the first session whose regular close is at or after the link's
  effective time (effective_at in macros/matching_marts.sql), so an item published after 15:30 KST (or on a closed
  day) anchors on the next session. A horizon is NULL until its session has closed: never a wrong
  number. One price source, explicitly adjusted: marts.daily_prices.

  Incremental: each stock is recomputed from the first link whose row can have changed (a new,
  changed or removed link; closes that changed within its horizon; a changed benchmark or
  calendar), see price_impact_resume in macros/matching_marts.sql; the rest is neither recomputed
  nor rewritten. `azak marts --full-refresh` rebuilds everything, with the same result
  (tests/dbt/test_incremental_marts.py).
-#}
{{ config(materialized='incremental', incremental_strategy='resume_from', on_schema_change='fail',
          unique_key='stock_code', resume_order_by='effective_at') }}

{% set horizons = price_impact_horizons() %}

with
{% if is_incremental() %}
resume as materialized (
    select
        p.stock_code,
        min(p.since) as since
    from {{ resume_points_table() }} as p
    group by p.stock_code
),
{% endif %}

-- the resumed links only (a link counts from no earlier than its day in Seoul, so the articles and
-- links of earlier days are not read), and each step below materialized: the planner's estimates
-- for these joins are far off, and it re-evaluated the anchor lookup once per horizon
links as materialized (
    select l.*
    from (
        select
            m.news_id,
            m.stock_code,
            m.score,
            m.salient,
            a.published_at,
            a.published_day,
            {{ effective_at('a') }} as effective_at
        {{ links_of_articles(
            "(select (min(since) at time zone 'Asia/Seoul')::date - 1 from resume)" if is_incremental() else none) }}
    ) as l
    {% if is_incremental() %}
    join resume as r on r.stock_code = l.stock_code and l.effective_at >= r.since
    {% endif %}
),

anchored as materialized (
    select
        l.*,
        {{ anchor_session('l.effective_at') }} as anchor_session
    from links as l
),

stock_closes as materialized (
    select
        p.stock_code,
        td.session_number,
        p.close
    {% if is_incremental() %}
    -- a resumed link's anchor closes at or after its effective time, so at or after since (and on or
    -- after since's day in Seoul): each resumed stock's range by the (stock_code, trade_date) index
    from resume as r
    cross join
        lateral (
            select
                d.stock_code,
                d.trade_date,
                d.close::double precision as close
            from {{ ref('daily_prices') }} as d
            where d.stock_code = r.stock_code and d.trade_date >= (r.since at time zone 'Asia/Seoul')::date
            -- one index range per stock, not a merge over every stored bar
            offset 0  -- noqa: AM09
        ) as p
    join {{ ref('trading_days') }} as td on td.trading_date = p.trade_date and td.close_at >= r.since
    {% else %}
    from (
        select
            stock_code,
            trade_date,
            close::double precision as close
        from {{ ref('daily_prices') }}
    ) as p
    join {{ ref('trading_days') }} as td on td.trading_date = p.trade_date
    {% endif %}
),

kospi_closes as (
    select
        td.session_number,
        i.close::double precision as close
    from {{ ref('index_daily') }} as i
    join {{ ref('trading_days') }} as td on td.trading_date = i.trade_date
    where i.index_code = '{{ price_impact_benchmark() }}'
)

select
    a.news_id,
    a.stock_code,
    a.salient,
    a.score,
    a.published_at,
    a.published_day,
    a.effective_at,
    anchor_day.trading_date as anchor_date,
    base.close as base_close,
    {% for h in horizons %}
    s{{ h }}.close / nullif(base.close, 0) - 1 as return_{{ h }}d,
    (s{{ h }}.close / nullif(base.close, 0) - 1) - (k{{ h }}.close / nullif(k0.close, 0) - 1) as excess_{{ h }}d,
    {% endfor %}
    k0.close as kospi_base_close
from anchored as a
left join {{ ref('trading_days') }} as anchor_day on anchor_day.session_number = a.anchor_session
left join stock_closes as base
    on base.stock_code = a.stock_code and base.session_number = a.anchor_session
left join kospi_closes as k0 on k0.session_number = a.anchor_session
{% for h in horizons %}
left join stock_closes as s{{ h }}
    on s{{ h }}.stock_code = a.stock_code and s{{ h }}.session_number = a.anchor_session + {{ h }}
left join kospi_closes as k{{ h }} on k{{ h }}.session_number = a.anchor_session + {{ h }}
{% endfor %}
