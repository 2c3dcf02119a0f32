select
    news_id,
    published_day,
    published_at,
    published_precision,
    title,
    summary,
    url,
    press,
    source,
    sources,
    content_type,
    cluster_id,
    is_canonical,
    cluster_size
from {{ source('news', 'news_articles') }}
