"""Raw news tables (one per source, the same shape) and the normalised, clustered articles."""

from azak_pipelines.lib.warehouse import Column, TableSpec

RAW_NEWS_COLUMNS = (
    Column("item_key", "text", nullable=False, comment="stable id within the source"),
    Column("published_day", "date", nullable=False, comment="KST date of publication"),
    Column("published_at", "timestamptz", nullable=False, comment="publication time as the source states it"),
    Column("published_precision", "text", nullable=False, comment="second | minute | hour | day"),
    Column("title", "text", nullable=False, comment="headline"),
    Column("summary", "text", nullable=False, comment="the list's summary, press/date tail removed"),
    Column("url", "text", nullable=False, comment="canonical URL"),
    Column("press", "text", comment="publisher, when the source names one"),
    Column("source", "text", nullable=False,
           comment="the collector (naver_finance, hankyung, maeil, dart, reddit, file)"),
    Column("content_type", "text", nullable=False, comment="news | disclosure | social"),
    Column("stock_code_hint", "text", comment="the company the source itself names"),
    Column("extra", "jsonb", nullable=False, comment="source-specific fields kept as they came"),
    Column("body", "text", comment="full text, only when AZAK_NEWS_FETCH_BODIES is on; never served"),
    Column("first_seen_at", "timestamptz", nullable=False,
           comment="when a collector first saw the item (kept on re-collection)"),
    Column("fetched_at", "timestamptz", nullable=False, comment="when this copy was fetched"),
)


def raw_news_table(name: str, comment: str) -> TableSpec:
    return TableSpec(schema="raw", name=name, columns=RAW_NEWS_COLUMNS,
                     natural_key=("item_key", "published_day"), partition_column="published_day",
                     comment=comment, keep_on_merge=("first_seen_at",))


NAVER_FINANCE_NEWS = raw_news_table("naver_finance_news", "Naver Finance: market and per-stock lists.")
HANKYUNG_NEWS = raw_news_table("hankyung_news", "Hankyung (한국경제) RSS.")
MAEIL_NEWS = raw_news_table("maeil_news", "Maeil Business (매일경제) RSS.")
DART_DISCLOSURES = raw_news_table("dart_disclosures", "OpenDART filings of watch-list companies.")
REDDIT_POSTS = raw_news_table("reddit_posts", "Reddit posts that pass the score/comment/keyword filters.")
IMPORTED_NEWS = raw_news_table("imported_news", "News loaded from JSON Lines files (azak import news).")
RAW_NEWS = (NAVER_FINANCE_NEWS, HANKYUNG_NEWS, MAEIL_NEWS, DART_DISCLOSURES, REDDIT_POSTS, IMPORTED_NEWS)

NEWS_ARTICLES = TableSpec(
    schema="computed", name="news_articles",
    comment="Every collected item once per canonical URL, normalised, with its story cluster.",
    columns=(
        Column("news_id", "bigint", nullable=False, comment="stable id from the canonical URL"),
        Column("published_day", "date", nullable=False, comment="KST day of publication (partition)"),
        Column("published_at", "timestamptz", nullable=False, comment="publication time"),
        Column("published_precision", "text", nullable=False, comment="second | minute | hour | day"),
        Column("title", "text", nullable=False, comment="headline"),
        Column("summary", "text", nullable=False, comment="the list's summary"),
        Column("url", "text", nullable=False, comment="canonical URL"),
        Column("press", "text", comment="publisher"),
        Column("source", "text", nullable=False, comment="where the item was first seen"),
        Column("sources", "text[]", nullable=False, comment="every source that carried it"),
        Column("content_type", "text", nullable=False, comment="news | disclosure | social"),
        Column("stock_code_hints", "text[]", nullable=False, comment="companies the sources named"),
        Column("cluster_id", "bigint", nullable=False, comment="news_id of the story's canonical item"),
        Column("is_canonical", "boolean", nullable=False, comment="the story's earliest item"),
        Column("cluster_size", "integer", nullable=False, comment="items in the story"),
        Column("first_seen_at", "timestamptz", nullable=False, comment="when a collector first saw it"),
    ),
    natural_key=("news_id", "published_day"),
    partition_column="published_day",
    indexes=(("cluster_id",), ("published_at",)),
)
