{#- Incremental: each stock is rewritten from its first changed bar on (macros/resume_from.sql). -#}
{{ config(materialized='incremental', incremental_strategy='resume_from', on_schema_change='fail',
          unique_key='stock_code', resume_order_by='bar_time') }}

select
    m.stock_code,
    m.trade_date,
    m.bar_time,
    m.open,
    m.high,
    m.low,
    m.close,
    m.volume
from {{ ref('stg_kis__minute_prices') }} as m
{% if is_incremental() %}
join {{ resume_points_table() }} as r on r.stock_code = m.stock_code and m.bar_time >= r.since
{% endif %}
