"""When news is collected (KST). Each run covers yesterday and today: a late item of yesterday
still lands in its own partition, and the merge keeps what earlier runs saw."""

from datetime import timedelta

import dagster as dg

from azak_core.market import KST
from azak_core.runs import range_tags
from azak_pipelines.defs.news.jobs import dart_job, news_job
from azak_pipelines.defs.news.resources import NewsSources


def _two_days(context: dg.ScheduleEvaluationContext, name: str) -> dg.RunRequest:
    today = context.scheduled_execution_time.astimezone(KST).date()
    return dg.RunRequest(
        run_key=f"{name}:{context.scheduled_execution_time.astimezone(KST):%Y-%m-%dT%H:%M}",
        tags=range_tags(str(today - timedelta(days=1)), str(today)))


@dg.schedule(cron_schedule="*/10 * * * *", job=news_job, execution_timezone=KST.key,
             default_status=dg.DefaultScheduleStatus.RUNNING)
def news_schedule(context: dg.ScheduleEvaluationContext, news: NewsSources) -> dg.RunRequest | dg.SkipReason:
    """Naver Finance, the RSS feeds and Reddit every 10 minutes, then news_articles."""
    modes = {source: news.mode(source) for source in ("naver", "rss", "reddit")}
    if all(mode == "replay" for mode in modes.values()):
        return dg.SkipReason("every news source is in replay mode: the recordings hold nothing new")
    return _two_days(context, "news")


@dg.schedule(cron_schedule="*/5 7-19 * * 1-5", job=dart_job, execution_timezone=KST.key,
             default_status=dg.DefaultScheduleStatus.RUNNING)
def dart_schedule(context: dg.ScheduleEvaluationContext, news: NewsSources) -> dg.RunRequest | dg.SkipReason:
    """OpenDART every 5 minutes on business days, 07:00-19:55 KST (filings cluster in office
    hours; the daily quota is 20,000 calls per key)."""
    if news.mode("dart") == "replay":
        return dg.SkipReason("DART is in replay mode (no AZAK_DART_API_KEY)")
    return _two_days(context, "dart")
