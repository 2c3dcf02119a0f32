"""Jobs of the news domain: collection per source, imports, and the dbt models over news."""

import dagster as dg

from azak_pipelines.defs.common import asset_key
from azak_pipelines.defs.matching.tables import NEWS_STOCK_MATCHES
from azak_pipelines.defs.news.tables import NEWS_ARTICLES

NEWS_SOURCES = [["raw", name] for name in (
    "naver_finance_news", "hankyung_news", "maeil_news", "reddit_posts")]

ARTICLES_AND_LINKS = (asset_key(NEWS_ARTICLES), asset_key(NEWS_STOCK_MATCHES))

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

news_marts_job = dg.define_asset_job(
    "news_marts_job",
    selection=dg.AssetSelection.groups("news", "matching") - dg.AssetSelection.key_prefixes(["raw"], ["computed"]),
    description="The dbt models over news and links: news_articles, news_stock_matches, "
                "news_price_impact (and the alias seeds).",
)
