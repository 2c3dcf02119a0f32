select
    m.news_id,
    m.stock_code,
    s.stock_name,
    m.score,
    m.salient,
    m.surfaces,
    m.evidence,
    m.linker_version,
    a.published_at
from {{ ref('stg_news__stock_matches') }} as m
join {{ ref('stg_news__articles') }} as a on a.news_id = m.news_id
left join {{ ref('stg_krx__stocks') }} as s on s.stock_code = m.stock_code
