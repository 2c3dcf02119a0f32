{#- Incremental: each stock's links are rewritten from the time of its first changed one on (a new
or removed link, a new score after a relink, a renamed company), see macros/resume_from.sql. -#}
{{ config(materialized='incremental', incremental_strategy='resume_from', on_schema_change='fail',
          unique_key='stock_code', resume_order_by='published_at') }}

select m.*
from ({{ news_stock_matches_inputs() }}) as m
{% if is_incremental() %}
join (
    select stock_code, min(since) as since from {{ this.identifier }}__resume group by 1
) as r on r.stock_code = m.stock_code and m.published_at >= r.since
{% endif %}
