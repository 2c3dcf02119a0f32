"""Jobs: stable names for runs, schedules, sensors and the CLI."""

import dagster as dg

reference_job = dg.define_asset_job(
    "reference_job",
    selection=dg.AssetSelection.groups("reference"),
    description="The KRX universe and trading calendar, and the dbt models over them.",
)

universe_job = dg.define_asset_job(
    "universe_job", selection=dg.AssetSelection.assets(["raw", "stocks"]),
    description="Only the KRX universe (what linking news needs first).",
)

daily_prices_job = dg.define_asset_job(
    "daily_prices_job", selection=dg.AssetSelection.assets(["raw", "daily_prices"]),
    description="Daily bars (KIS or files). Launch with a partition range for a backfill: one run.",
    tags={"azak/source": "kis"},
)
minute_prices_job = dg.define_asset_job(
    "minute_prices_job", selection=dg.AssetSelection.assets(["raw", "minute_prices"]),
    tags={"azak/source": "kis"},
)
quote_snapshots_job = dg.define_asset_job(
    "quote_snapshots_job", selection=dg.AssetSelection.assets(["raw", "quote_snapshots"]),
    tags={"azak/source": "kis"},
)
investor_flows_job = dg.define_asset_job(
    "investor_flows_job", selection=dg.AssetSelection.assets(["raw", "investor_flows"]),
    tags={"azak/source": "kis"},
)
index_overtime_job = dg.define_asset_job(
    "index_overtime_job",
    selection=dg.AssetSelection.assets(["raw", "index_daily"], ["raw", "overtime_prices"]),
    tags={"azak/source": "kis"},
)
fundamentals_job = dg.define_asset_job(
    "fundamentals_job",
    selection=dg.AssetSelection.assets(["raw", "financial_ratios"], ["raw", "product_info"]),
    tags={"azak/source": "kis"},
)
market_raw_job = dg.define_asset_job(
    "market_raw_job",
    selection=dg.AssetSelection.assets(
        ["raw", "daily_prices"], ["raw", "investor_flows"], ["raw", "index_daily"],
        ["raw", "overtime_prices"]),
    description="The daily market series over a partition range (what the demo backfills).",
    tags={"azak/source": "kis"},
)
intraday_job = dg.define_asset_job(
    "intraday_job",
    selection=dg.AssetSelection.assets(["raw", "minute_prices"], ["raw", "quote_snapshots"]),
    tags={"azak/source": "kis"},
)
market_marts_job = dg.define_asset_job(
    "market_marts_job",
    selection=dg.AssetSelection.groups("market") - dg.AssetSelection.key_prefixes(["raw"]),
    description="The dbt staging views and marts over the market tables.",
)

NEWS_SOURCES = [["raw", name] for name in (
    "naver_finance_news", "hankyung_news", "maeil_news", "reddit_posts")]
ARTICLES_AND_LINKS = (["raw", "news_articles"], ["raw", "news_stock_matches"])
news_job = dg.define_asset_job(
    "news_job",
    selection=dg.AssetSelection.assets(*NEWS_SOURCES, *ARTICLES_AND_LINKS),
    description="Naver Finance, the RSS feeds and Reddit, then news_articles and the links.",
    tags={"azak/source": "news"},
)
dart_job = dg.define_asset_job(
    "dart_job",
    selection=dg.AssetSelection.assets(["raw", "dart_disclosures"], *ARTICLES_AND_LINKS),
    description="OpenDART filings, then news_articles and the links.",
    tags={"azak/source": "dart"},
)
imported_news_job = dg.define_asset_job(
    "imported_news_job",
    selection=dg.AssetSelection.assets(["raw", "imported_news"], *ARTICLES_AND_LINKS),
    description="News from JSON Lines files (azak import news), then news_articles and the links.",
)
all_news_job = dg.define_asset_job(
    "all_news_job",
    selection=dg.AssetSelection.assets(
        *NEWS_SOURCES, ["raw", "dart_disclosures"], *ARTICLES_AND_LINKS),
    description="Every news source, news_articles and the links (what the demo runs).",
)
matching_job = dg.define_asset_job(
    "matching_job", selection=dg.AssetSelection.assets(["raw", "news_stock_matches"]),
    description="Re-link a range of articles (after the linker or the alias tables changed).",
)
news_marts_job = dg.define_asset_job(
    "news_marts_job",
    selection=(dg.AssetSelection.groups("news", "matching") - dg.AssetSelection.key_prefixes(["raw"])),
    description="The dbt models over news and links: news_articles, news_stock_matches, "
                "news_price_impact (and the alias seeds).",
)
