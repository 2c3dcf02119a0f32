"""The job `azak notify` launches for one KST day."""

import dagster as dg

from azak_pipelines.defs.notify.tables import OUTBOX_KEY

telegram_notifications_job = dg.define_asset_job(
    "telegram_notifications_job", selection=dg.AssetSelection.assets(OUTBOX_KEY),
    description="Write the day's Telegram messages to the outbox (and deliver them when a token is set).",
)
