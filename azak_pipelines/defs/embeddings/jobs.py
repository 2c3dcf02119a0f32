"""Jobs of the embeddings domain."""

import dagster as dg

from azak_pipelines.defs.embeddings.assets import NEWS_EMBEDDINGS
from azak_pipelines.defs.embeddings.tables import SIMILAR_NEWS

embeddings_job = dg.define_asset_job(
    "embeddings_job",
    selection=dg.AssetSelection.assets(NEWS_EMBEDDINGS, [SIMILAR_NEWS.schema, SIMILAR_NEWS.name]),
    description="Embed a range of articles into Milvus and find each one's earlier similar articles "
                "(launch with a partition range: one run).",
)
embeddings_marts_job = dg.define_asset_job(
    "embeddings_marts_job",
    selection=dg.AssetSelection.assets(["marts", "similar_news_outcomes"]),
    description="marts.similar_news_outcomes: what prices did after each article's similar earlier articles.",
)
