{#-
  Every prediction in one shape, whoever made it: news-impact predictions (no targets), the
  short-term call of stock reports (target and stop), and imported external predictions.
  Failed and skipped attempts are kept here (they are counted); only `ok` rows are evaluated.
  `evaluation_id` is unique across the three: the kind, then the producer's own id.
-#}
with news as (
    select
        'news:' || prediction_id as evaluation_id,
        'news_prediction' as source_kind,
        prediction_id as item_id,
        model_id,
        model_name,
        mode,
        status,
        stock_code,
        news_id,
        made_at,
        horizon_sessions,
        direction,
        probability,
        null::double precision as base_price,
        null::double precision as target_price,
        null::double precision as stop_price
    from {{ source('predictions', 'news_predictions') }}
),

reports as (
    select
        'report:' || report_id as evaluation_id,
        'stock_report' as source_kind,
        report_id as item_id,
        model_id,
        model_name,
        mode,
        status,
        stock_code,
        null::bigint as news_id,
        made_at,
        short_horizon_sessions as horizon_sessions,
        direction,
        probability,
        base_price::double precision as base_price,
        short_target::double precision as target_price,
        short_stop::double precision as stop_price
    from {{ source('predictions', 'stock_reports') }}
),

external as (
    select
        'external:' || prediction_id as evaluation_id,
        'external' as source_kind,
        prediction_id as item_id,
        model_id,
        model_name,
        mode,
        'ok' as status,
        stock_code,
        null::bigint as news_id,
        made_at,
        horizon_sessions,
        direction,
        probability,
        base_price::double precision as base_price,
        target_price::double precision as target_price,
        stop_price::double precision as stop_price
    from {{ source('predictions', 'external_predictions') }}
)

select * from news
union all
select * from reports
union all
select * from external
