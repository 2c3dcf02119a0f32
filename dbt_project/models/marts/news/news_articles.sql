{#- Incremental: each day is rewritten from its first changed article on (a new article, a new
cluster, new links after a relink), see macros/resume_from.sql. -#}
{{ config(materialized='incremental', incremental_strategy='resume_from', on_schema_change='fail',
          unique_key='published_day', resume_order_by='news_id') }}

-- the mart stores the view's rows, with the view's columns
select a.*  -- noqa: AM04
from {{ ref('stg_news__articles_linked') }} as a
{% if is_incremental() %}
join {{ resume_points_table() }} as r on r.published_day = a.published_day and a.news_id >= r.since
{% endif %}
