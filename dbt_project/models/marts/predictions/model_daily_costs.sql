{#-
  What each model cost per KST day (the day the attempt was made, created_at): provider calls,
  cache hits (free), failures and budget skips, tokens and US dollars. Tokens count only real calls:
  a cache hit repeats an earlier answer and spends nothing.
-#}
with attempts as (
    select
        'news_impact' as output, model_name, status, cached, tokens_in, tokens_out, cost_usd, latency_ms, created_at
    from {{ source('predictions', 'news_predictions') }}
    union all
    select
        'stock_report' as output, model_name, status, cached, tokens_in, tokens_out, cost_usd, latency_ms, created_at
    from {{ source('predictions', 'stock_reports') }}
)

select
    (created_at at time zone 'Asia/Seoul')::date as cost_day,
    model_name,
    output,
    count(*) as attempts,
    count(*) filter (where status = 'ok') as ok,
    count(*) filter (where status = 'failed') as failed,
    count(*) filter (where status = 'skipped') as skipped,
    count(*) filter (where cached) as cache_hits,
    coalesce(sum(tokens_in) filter (where not cached), 0)::bigint as tokens_in,
    coalesce(sum(tokens_out) filter (where not cached), 0)::bigint as tokens_out,
    sum(cost_usd)::numeric(14, 6) as cost_usd,
    (avg(latency_ms) filter (where not cached and status <> 'skipped'))::double precision as mean_latency_ms
from attempts
group by 1, 2, 3
