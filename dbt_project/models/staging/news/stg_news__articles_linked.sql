{#- Articles with the companies they are about (salient links, strongest first) and every company
they mention: what marts.news_articles stores, and what its incremental runs compare against. -#}
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
-- each article's own links (a link is stored under its article's day): a filter on the articles
-- (an incremental run's days) then reads only their links
left join lateral (
    select
        array_agg(l.stock_code order by l.score desc, l.stock_code asc) filter (where l.salient) as stock_codes,
        array_agg(l.stock_code order by l.score desc, l.stock_code asc) as mentioned_codes
    from {{ ref('stg_news__stock_matches') }} as l
    where l.news_id = a.news_id and l.published_day = a.published_day
) as m on true
