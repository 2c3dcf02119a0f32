"""Jobs of the matching domain."""

import dagster as dg

from azak_pipelines.defs.common import asset_key
from azak_pipelines.defs.matching.tables import NEWS_STOCK_MATCHES

matching_job = dg.define_asset_job(
    "matching_job", selection=dg.AssetSelection.assets(asset_key(NEWS_STOCK_MATCHES)),
    description="Re-link a range of articles (after the linker or the alias tables changed).",
)
