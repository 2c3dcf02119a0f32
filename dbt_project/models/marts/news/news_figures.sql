{#-
  The dashboard's news figures, computed once per build instead of on every request (each one
  reads the whole corpus: seconds at a million articles). Long format: one row per figure and key.
  Windows end at the newest article (as_of), so replayed data reads sensibly.
-#}
with latest as (
    select max(published_at) as as_of from {{ ref('news_articles') }}
),

totals as (
    select
        count(a.news_id) as total,
        count(a.news_id) filter (where a.published_at > l.as_of - interval '24 hours') as day,
        count(a.news_id) filter (where a.published_at > l.as_of - interval '7 days') as week,
        count(distinct a.cluster_id) as stories,
        count(a.news_id) filter (where cardinality(a.stock_codes) > 0) as with_subject
    from latest as l
    left join {{ ref('news_articles') }} as a on true
),

covered as (
    select
        linked.stock as stock_code,
        count(*) as n
    from {{ ref('news_articles') }} as a
    cross join latest as l
    cross join lateral unnest(a.stock_codes) as linked (stock)
    where a.published_at > l.as_of - interval '30 days'
    group by linked.stock
    order by n desc, linked.stock asc
    limit 10
),

impact as (
    select
        v.h,
        count(v.x) as matured,
        avg(v.x) * 100 as mean_pct
    from {{ ref('news_price_impact') }} as i
    cross join lateral (values ('1d', i.excess_1d), ('5d', i.excess_5d), ('20d', i.excess_20d)) as v (h, x)
    where i.salient
    group by v.h
),

figures as (
    select
        'totals' as figure,
        t.key,
        t.n,
        null::double precision as mean
    from totals
    cross join
        lateral (
            values ('total', totals.total), ('day', totals.day), ('week', totals.week), ('stories', totals.stories),
            ('with_subject', totals.with_subject)
        ) as t (key, n)
    union all
    select
        'source' as figure,
        listed.source as key,
        count(*) as n,
        null as mean
    from {{ ref('news_articles') }} as a
    cross join lateral unnest(a.sources) as listed (source)
    group by listed.source
    union all
    select
        'content_type' as figure,
        content_type as key,
        count(*) as n,
        null as mean
    from {{ ref('news_articles') }}
    group by content_type
    union all
    select
        'most_covered' as figure,
        stock_code as key,
        n,
        null as mean
    from covered
    union all
    select
        'impact' as figure,
        h as key,
        matured as n,
        mean_pct as mean
    from impact
)

select
    f.figure,
    f.key,
    f.n,
    f.mean,
    l.as_of
from figures as f
cross join latest as l
