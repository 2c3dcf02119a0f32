{#-
  For every article-company link: the return from the anchor close to T+n sessions, and the excess
  over KOSPI. The anchor is the first session whose regular close is at or after publication, so
  an item published after 15:30 KST (or on a closed day) anchors on the next session. A filing that
  carries only a date (DART) counts as published at the end of that day — never earlier than it
  could have been known. A horizon is NULL until its session has closed: never a wrong number.
  One price source, explicitly adjusted: marts.daily_prices.
-#}
{% set horizons = [1, 2, 3, 5, 10, 20] %}

with links as (
    select
        m.news_id,
        m.stock_code,
        m.score,
        m.salient,
        a.published_at,
        a.published_precision,
        case
            when a.published_precision = 'day'
                then ((a.published_day + 1)::timestamp at time zone 'Asia/Seoul')
            else a.published_at
        end as effective_at
    from {{ ref('stg_news__stock_matches') }} as m
    join {{ ref('stg_news__articles') }} as a on a.news_id = m.news_id
),

anchored as (
    select
        l.*,
        {{ anchor_session('l.effective_at') }} as anchor_session
    from links as l
),

stock_closes as (
    select p.stock_code, td.session_number, p.close::double precision as close
    from {{ ref('daily_prices') }} as p
    join {{ ref('trading_days') }} as td on td.trading_date = p.trade_date
),

kospi_closes as (
    select td.session_number, i.close::double precision as close
    from {{ ref('index_daily') }} as i
    join {{ ref('trading_days') }} as td on td.trading_date = i.trade_date
    where i.index_code = '0001'
)

select
    a.news_id,
    a.stock_code,
    a.salient,
    a.score,
    a.published_at,
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
