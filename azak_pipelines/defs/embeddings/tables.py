"""``computed.similar_news``: each article's earlier neighbours (the contract the marts read)."""

from azak_pipelines.lib.warehouse import Column, TableSpec

SIMILAR_NEWS = TableSpec(
    schema="computed", name="similar_news",
    comment="Per article, its most similar articles published before it (itself and copies of its story "
            "excluded), by the embedder named in the row.",
    columns=(
        Column("news_id", "bigint", nullable=False, comment="the article (computed.news_articles.news_id)"),
        Column("published_day", "date", nullable=False, comment="KST day of the article (the partition)"),
        Column("neighbor_id", "bigint", nullable=False, comment="an earlier article"),
        Column("rank", "integer", nullable=False, comment="1 = most similar"),
        Column("similarity", "double precision", nullable=False, comment="cosine, in [-1, 1]"),
        Column("embedder", "text", nullable=False, comment="name@version of the embedder"),
    ),
    natural_key=("news_id", "neighbor_id", "published_day"),
    partition_column="published_day",
    indexes=(("neighbor_id",),),
)

NEWS_VECTORS = TableSpec(
    schema="computed", name="news_vectors",
    comment="Each embedded article's vector as Milvus holds it, kept beside the article so the API's "
            "similar-news search makes one Milvus call (the search), not two (get the vector, search).",
    columns=(
        Column("news_id", "bigint", nullable=False),
        Column("published_day", "date", nullable=False, comment="KST day of the article (the partition)"),
        Column("embedder", "text", nullable=False, comment="name@version of the embedder that made it"),
        Column("vector", "bytea", nullable=False, comment="float32 little-endian (azak_core.vectors.packed)"),
    ),
    natural_key=("news_id", "published_day"),
    partition_column="published_day",
)

SIMILAR_NEWS_DAYS = TableSpec(
    schema="computed", name="similar_news_days",
    comment="Per embedder and KST day, when its vectors were last written to Milvus and when its articles' "
            "neighbours (computed.similar_news) were last searched: the day's neighbours are what a search "
            "would find now while no vectors of that day or earlier were written after their search.",
    columns=(
        Column("embedder", "text", nullable=False, comment="name@version of the embedder"),
        Column("published_day", "date", nullable=False, comment="KST day of the articles"),
        Column("vectors_written_at", "timestamptz", comment="end of the last write of the day's vectors to Milvus"),
        Column("neighbours_searched_at", "timestamptz",
               comment="start of the last search for the day's neighbours (computed.similar_news)"),
    ),
    natural_key=("embedder", "published_day"),
    indexes=(("embedder", "vectors_written_at"),),
)
