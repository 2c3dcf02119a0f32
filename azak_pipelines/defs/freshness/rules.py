"""Every asset's freshness rule, or why it has none: one table, read by the scheduled checks
(``checks.py``), the Dagster freshness policies (``defs/catalog.py``), the data dictionary and the docs.

Deadlines follow the schedules they watch (``defs/*/schedules.py``) plus a grace period for the run
itself; assets kept fresh by automation get the grace of their slowest input.
"""

from datetime import time, timedelta

import dagster as dg

from azak_pipelines.lib.freshness import MaxAge, Rule, TradingDayDeadline

MINUTES = timedelta(minutes=1)
WEEKLY = MaxAge(timedelta(days=8))  # Sunday/Monday refreshes, a day of slack

RULES: dict[str, Rule] = {
    # reference: weekly refreshes (Sunday 01:00, Monday 07:30)
    "raw/stocks": WEEKLY,
    "raw/trading_calendar": WEEKLY,
    "computed/stock_history": WEEKLY,
    "marts/stocks": WEEKLY,
    "marts/trading_days": WEEKLY,
    # market: the KIS schedules on trading days (KST)
    "raw/daily_prices": TradingDayDeadline(time(15, 40), 30 * MINUTES),
    "raw/minute_prices": TradingDayDeadline(time(15, 20), 40 * MINUTES),
    "raw/quote_snapshots": TradingDayDeadline(time(15, 20), 40 * MINUTES),
    "raw/investor_flows": TradingDayDeadline(time(16, 0), 30 * MINUTES),
    "raw/index_daily": TradingDayDeadline(time(18, 0), 30 * MINUTES),
    "raw/overtime_prices": TradingDayDeadline(time(18, 0), 30 * MINUTES),
    "raw/financial_ratios": WEEKLY,
    "raw/product_info": WEEKLY,
    "marts/daily_prices": TradingDayDeadline(time(15, 40), 60 * MINUTES),
    "marts/minute_prices": TradingDayDeadline(time(15, 20), 70 * MINUTES),
    "marts/index_daily": TradingDayDeadline(time(18, 0), 60 * MINUTES),
    # news: every 10 minutes, any day; DART every 5 minutes on business days
    "raw/naver_finance_news": MaxAge(30 * MINUTES),
    "raw/hankyung_news": MaxAge(30 * MINUTES),
    "raw/maeil_news": MaxAge(30 * MINUTES),
    "raw/reddit_posts": MaxAge(30 * MINUTES),
    "raw/dart_disclosures": TradingDayDeadline(time(19, 0), 60 * MINUTES),
    "computed/news_articles": MaxAge(30 * MINUTES),
    "marts/news_articles": MaxAge(60 * MINUTES),
    "marts/news_figures": MaxAge(60 * MINUTES),
    # matching and embeddings follow the news (automation)
    "computed/news_stock_matches": MaxAge(60 * MINUTES),
    "marts/news_stock_matches": MaxAge(90 * MINUTES),
    "marts/news_price_impact": TradingDayDeadline(time(15, 40), 90 * MINUTES),
    "milvus/news_embeddings": MaxAge(60 * MINUTES),
    "computed/similar_news": MaxAge(90 * MINUTES),
    "marts/similar_news_outcomes": TradingDayDeadline(time(15, 40), 120 * MINUTES),
    # predictions: news every 10 minutes around the clock (the rule checks the trading day's 18:00
    # deadline) and reports 08:30/13:05/16:00 on trading days
    "computed/news_predictions": TradingDayDeadline(time(18, 0), 60 * MINUTES),
    "computed/stock_reports": TradingDayDeadline(time(16, 0), 60 * MINUTES),
    "marts/model_daily_costs": TradingDayDeadline(time(18, 0), 120 * MINUTES),
    # evaluation: 20:00 KST on trading days
    "computed/prediction_scores": TradingDayDeadline(time(20, 0), 60 * MINUTES),
    "computed/model_daily_performance": TradingDayDeadline(time(20, 0), 60 * MINUTES),
    "computed/model_leaderboard": TradingDayDeadline(time(20, 0), 60 * MINUTES),
    "computed/ab_comparisons": TradingDayDeadline(time(20, 0), 60 * MINUTES),
    "marts/prediction_outcomes": TradingDayDeadline(time(20, 0), 60 * MINUTES),
    # notify: the outbox every 10 minutes
    "app/telegram_notifications": MaxAge(30 * MINUTES),
}

SEED = "a dbt seed: it changes with the code and is rebuilt by the deploy, not on a clock"
VIEW = "a dbt view: it reads its source at query time, so it is as fresh as the source's rule"
NO_RULE: dict[str, str] = {
    "app/stock_watchlist": "written by admins through the API when they change the watch-list",
    "raw/imported_news": "loaded on demand by `azak import news`",
    "computed/external_predictions": "loaded on demand by `azak import predictions`",
    **{f"raw/{name}": ("every 5 minutes of the session, on real KIS accounts only: a paper account never "
                       "collects it (its schedule says why), so a clock rule would alert for ever")
       for name in ("market_rankings", "index_snapshots")},
    "marts/kis_sectors": SEED,
    **{f"marts/{name}": SEED for name in (
        "brokers", "entity_blockers", "group_context", "short_name_overrides", "stock_aliases")},
}


def rule_for(key: dg.AssetKey) -> Rule | None:
    return RULES.get(key.to_user_string())


def no_rule_reason(key: dg.AssetKey) -> str | None:
    """Why an asset has no freshness rule (None when it should have one)."""
    if key.path[0] == "staging":
        return VIEW
    return NO_RULE.get(key.to_user_string())


def dagster_policy(rule: Rule) -> dg.FreshnessPolicy | None:
    """Dagster's own policy for a rule that needs no calendar (Dagit shows its state)."""
    if isinstance(rule, MaxAge):
        return dg.FreshnessPolicy.time_window(fail_window=rule.limit)
    return None
