"""The matching domain's table: article × listed company links."""

from azak_pipelines.lib.warehouse import Column, TableSpec

NEWS_STOCK_MATCHES = TableSpec(
    schema="computed", name="news_stock_matches",
    comment="Article × listed company links with a score, the salient flag and the evidence.",
    columns=(
        Column("news_id", "bigint", nullable=False, comment="computed.news_articles.news_id"),
        Column("published_day", "date", nullable=False, comment="KST day of the article (partition)"),
        Column("stock_code", "text", nullable=False, comment="the linked company's short code"),
        Column("score", "numeric(4,3)", nullable=False, comment="link confidence, 0–1"),
        Column("salient", "boolean", nullable=False, comment="the article is about this company"),
        Column("surfaces", "text[]", nullable=False, comment="the strings found in the text"),
        Column("evidence", "text", nullable=False,
               comment="text | dart_filer (the filing company) | naver_stock_list (listed under it)"),
        Column("linker_version", "text", nullable=False, comment="hash of the linker's tables and rules"),
        Column("matched_at", "timestamptz", nullable=False, comment="when the link was made"),
    ),
    natural_key=("news_id", "stock_code", "published_day"),
    partition_column="published_day",
    indexes=(("stock_code", "published_day"),),
)
