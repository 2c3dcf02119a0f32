"""Keep the dbt marts in step with the raw tables, however those were filled (a schedule, a
backfill from Dagit, an import)."""

import dagster as dg

from azak_pipelines.defs.jobs import market_marts_job, news_marts_job


def _raw(*names: str) -> list[dg.AssetKey]:
    return [dg.AssetKey(["raw", name]) for name in names]


def marts_sensor(name: str, job: object, watched: list[dg.AssetKey],
                 description: str) -> dg.SensorDefinition:
    @dg.sensor(name=name, job=job, minimum_interval_seconds=60, description=description,
               default_status=dg.DefaultSensorStatus.RUNNING)
    def watch(context: dg.SensorEvaluationContext):
        latest = 0
        for key in watched:
            event = context.instance.get_latest_materialization_event(key)
            if event is not None and event.storage_id is not None:
                latest = max(latest, event.storage_id)
        if latest <= int(context.cursor or 0):
            return dg.SkipReason("no new materializations upstream")
        context.update_cursor(str(latest))
        return dg.RunRequest(run_key=f"{name}:{latest}")

    return watch


market_marts_sensor = marts_sensor(
    "market_marts_sensor", market_marts_job,
    _raw("daily_prices", "minute_prices", "quote_snapshots", "investor_flows", "index_daily",
         "overtime_prices", "financial_ratios", "product_info"),
    "Rebuild the market dbt models after any raw market table changed.")
news_marts_sensor = marts_sensor(
    "news_marts_sensor", news_marts_job, _raw("news_articles", "news_stock_matches", "daily_prices"),
    "Rebuild the news and price-impact dbt models after new articles, links or prices (horizons "
    "mature as sessions close).")
