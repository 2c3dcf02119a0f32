"""The notify domain's tables. Its outbox ``app.telegram_notifications`` and the subscribers belong
to the app migrations (``azak db migrate``, checked by ``outbox.require_tables``), not to a
:class:`TableSpec`: here are the outbox's asset key and the tables the messages are built from."""

import dagster as dg

from azak_pipelines.defs.embeddings.tables import SIMILAR_NEWS
from azak_pipelines.defs.evaluation.tables import MODEL_LEADERBOARD
from azak_pipelines.defs.market.tables import DAILY_PRICES
from azak_pipelines.defs.news.tables import NEWS_ARTICLES
from azak_pipelines.defs.predictions.tables import NEWS_PREDICTIONS, STOCK_REPORTS
from azak_pipelines.defs.reference.tables import STOCKS

OUTBOX_KEY = dg.AssetKey(["app", "telegram_notifications"])

# by the name :class:`azak_pipelines.lib.notify.build.Sources` gives each
READS = {"predictions": NEWS_PREDICTIONS, "reports": STOCK_REPORTS, "articles": NEWS_ARTICLES,
         "stocks": STOCKS, "prices": DAILY_PRICES, "leaderboard": MODEL_LEADERBOARD,
         "similar": SIMILAR_NEWS}
