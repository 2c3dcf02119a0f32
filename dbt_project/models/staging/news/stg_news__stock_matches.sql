select
    news_id,
    published_day,
    stock_code,
    score,
    salient,
    surfaces,
    evidence,
    linker_version
from {{ source('news', 'news_stock_matches') }}
