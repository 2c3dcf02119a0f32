{#- Incremental: each index is recomputed from its first changed day on, reading the stored day
before it for the first return (macros/resume_from.sql). -#}
{{ config(materialized='incremental', incremental_strategy='resume_from', on_schema_change='fail',
          unique_key='index_code', resume_order_by='trade_date') }}

with levels as (
    select
        i.index_code,
        i.index_name,
        i.trade_date,
        i.open,
        i.high,
        i.low,
        i.close,
        false as is_context
    from {{ ref('stg_kis__index_daily') }} as i
    {% if is_incremental() %}
    where
        exists (
            select 1 from {{ resume_points_table() }} as r
            where r.index_code = i.index_code and i.trade_date >= r.since
        )

    union all

    select
        m.index_code,
        m.index_name,
        m.trade_date,
        m.open,
        m.high,
        m.low,
        m.close,
        true as is_context
    from {{ resume_points_table() }} as r
    cross join
        lateral (
            select m.* from {{ this }} as m
            where m.index_code = r.index_code and m.trade_date < r.since
            order by m.trade_date desc
            limit 1
        ) as m
    {% endif %}
),

returns as (
    select
        *,
        close::double precision
        / nullif(lag(close::double precision) over (partition by index_code order by trade_date), 0)
        - 1 as return_1d
    from levels
)

select
    index_code,
    index_name,
    trade_date,
    open,
    high,
    low,
    close,
    return_1d
from returns
where not is_context
