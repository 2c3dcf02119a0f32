{#- Articles with the companies they are about (salient links, strongest first) and every company
they mention: what marts.news_articles stores, and what its incremental runs compare against. -#}
with matches as (
    select
        news_id,
        array_agg(stock_code order by score desc, stock_code) filter (where salient) as stock_codes,
        array_agg(stock_code order by score desc, stock_code) as mentioned_codes
    from {{ ref('stg_news__stock_matches') }}
    group by news_id
)

select
    a.news_id,
    a.published_at,
    a.published_day,
    a.published_precision,
    a.title,
    a.summary,
    a.url,
    a.press,
    a.source,
    a.sources,
    a.content_type,
    a.cluster_id,
    a.is_canonical,
    a.cluster_size,
    coalesce(m.stock_codes, array[]::text[]) as stock_codes,
    coalesce(m.mentioned_codes, array[]::text[]) as mentioned_codes
from {{ ref('stg_news__articles') }} as a
left join matches as m on m.news_id = a.news_id
