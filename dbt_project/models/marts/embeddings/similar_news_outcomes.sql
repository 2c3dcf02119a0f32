{#-
  What prices did after an article's similar earlier articles, per article, linked stock and horizon.
  The neighbours are computed.similar_news (published strictly before the article, same story
  excluded); only neighbours linked to the same stock count, with their returns from
  news_price_impact. Point in time: a neighbour's T+h return counts only if session T+h had
  closed before the article was published, so a prediction citing these figures never sees its
  future. n is the number of such returns; mean/min/max are NULL when n = 0. One row per link of
  an article that has at least one earlier similar article about the same stock; horizons are
  azak_core.market.RETURN_HORIZONS.
-#}
{% set horizons = [1, 3, 5, 20] %}

with links as (
    select
        m.news_id,
        m.stock_code,
        a.published_day,
        a.published_at
    from {{ ref('stg_news__stock_matches') }} as m
    join {{ ref('stg_news__articles') }} as a on a.news_id = m.news_id
),

neighbour_returns as (
    select
        l.news_id,
        l.stock_code,
        l.published_day,
        l.published_at,
        h.horizon_days,
        case h.horizon_days
            {% for h in horizons %}when {{ h }} then p.return_{{ h }}d
            {% endfor %}
        end as horizon_return,
        matured.close_at as matured_at
    from links as l
    join {{ source('embeddings', 'similar_news') }} as s on s.news_id = l.news_id
    join {{ ref('news_price_impact') }} as p
        on p.news_id = s.neighbor_id and p.stock_code = l.stock_code
    cross join unnest(array{{ horizons }}) as h (horizon_days)
    left join {{ ref('trading_days') }} as anchor on anchor.trading_date = p.anchor_date
    left join {{ ref('trading_days') }} as matured
        on matured.session_number = anchor.session_number + h.horizon_days
)

select
    news_id,
    stock_code,
    horizon_days::integer as horizon_days,
    published_day,
    published_at,
    (count(horizon_return) filter (where matured_at <= published_at))::integer as n,
    avg(horizon_return) filter (where matured_at <= published_at) as mean_return,
    min(horizon_return) filter (where matured_at <= published_at) as min_return,
    max(horizon_return) filter (where matured_at <= published_at) as max_return
from neighbour_returns
group by news_id, stock_code, horizon_days, published_day, published_at
