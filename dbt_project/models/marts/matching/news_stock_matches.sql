{#- Incremental: each stock's links are rewritten from the time of its first changed one on (a new
or removed link, a new score after a relink, a renamed company), see macros/resume_from.sql. -#}
{{ config(materialized='incremental', incremental_strategy='resume_from', on_schema_change='fail',
          unique_key='stock_code', resume_order_by='published_at') }}

-- each link with the company's name and the article's time
with links as (
    select
        m.news_id,
        m.stock_code,
        -- a lookup, not a join: beside the resume comparison's full join the planner joined the
        -- listing by a filtered nested loop (2.9 billion comparisons, 226 s at a million links)
        (
            select s.stock_name
            from {{ ref('stg_krx__stocks') }} as s
            where s.stock_code = m.stock_code
        ) as stock_name,
        m.score,
        m.salient,
        m.surfaces,
        m.evidence,
        m.linker_version,
        a.published_at,
        a.published_day
    {{ links_of_articles() }}
)
{%- if is_incremental() %},

resume as (
    select
        p.stock_code,
        min(p.since) as since
    from {{ resume_points_table() }} as p
    group by p.stock_code
)
{%- endif %}

select l.*
from links as l
{% if is_incremental() %}
join resume as r on r.stock_code = l.stock_code and l.published_at >= r.since
{% endif %}
